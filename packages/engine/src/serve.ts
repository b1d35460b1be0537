import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { ApiDeps, Lifecycle } from './api/api-deps.js';
import { buildApp } from './api/build-app.js';
import { loggerOptions } from './api/logger-options.js';
import { nativeSpawnAddon, useBatchScheduling } from './executor/local/native-spawn.js';
import { createTokenService, type TokenService } from './api/token-service.js';
import type { Config } from './config/config.js';
import { ConfigError, messageOf } from './domain/errors.js';
import { createApprovalService } from './service/approval-service.js';
import { startCompileWorker, type CompileWorker } from './service/compile-worker.js';
import { startCleanupJob, type CleanupJob } from './service/cleanup-job.js';
import { startIdleMemoryTrim, type IdleMemoryTrim } from './service/idle-memory-trim.js';
import { createCronScheduler, type CronScheduler } from './service/cron-scheduler.js';
import { resolveEncryptionKey } from './service/encryption-key.js';
import { cipherInputSeal } from './service/input-seal.js';
import { createSecretCipher, type SecretCipher } from './service/secret-cipher.js';
import { createSecretService, type SecretService } from './service/secret-service.js';
import { createWebhookReceiver } from './service/webhook-receiver.js';
import { createStoreCallbacks } from './service/store-callbacks.js';
import { createWorkflowRunStarter } from './service/workflow-run-starter.js';
import { createRuntime, type Runtime, type RuntimeOptions } from './main.js';
import type { Store } from './store/types.js';

/** A running `pilotage serve`. */
export interface RunningServer {
  /** base URL of the API (and of component callbacks), `http://host:port` */
  readonly url: string;
  readonly app: FastifyInstance;
  readonly runtime: Runtime;
  readonly tokens: TokenService;
  /** `accepting` turns false when `close()` starts */
  readonly lifecycle: Lifecycle;
  /**
   * Graceful stop: refuse new work (readyz 503), give running runs up to `shutdownGraceMs` to
   * end, cancel what still runs (recorded as `cancelled`, reason "server shutting down"), then
   * close the server and the store. Safe to repeat.
   */
  close(): Promise<void>;
}

/** Options of `startServer` besides the config (tests). */
export interface ServeOptions extends Omit<RuntimeOptions, 'callbackServedAt'> {
  /** where JSON log lines go (default stdout); `false`: no logs */
  readonly logStream?: NodeJS.WritableStream | false;
  /** how often the cron scheduler reads the workflows again, ms (default 5000) */
  readonly cronPollMs?: number;
  /** folder of the built web UI served at `/` (default: the installed `@pilotage/web`'s; false: none) */
  readonly uiDir?: string | false;
  /** how often SSE streams send a heartbeat and run streams read their run again, ms (default 15 000) */
  readonly sseHeartbeatMs?: number;
}

/**
 * Start the API server: listen on `config.host:config.port` first (so the callback URL is known;
 * requests get 503 until the app is attached), then assemble the runtime with callbacks mounted
 * on the same port, open the secret store, build the app, create a first admin token in
 * `<dataDir>/admin-token` (mode 0600) when the store holds none, attach the app, resume runs a
 * previous process left unfinished (or a dead replica's), and start the cron scheduler and the
 * cleanup job (retention).
 */
export async function startServer(config: Config, options: ServeOptions = {}): Promise<RunningServer> {
  // Until the app is attached, answer 503 at once rather than leave early requests hanging.
  const starting = (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end(JSON.stringify({ code: 'UNAVAILABLE', message: 'the server is starting; retry shortly' }));
  };
  const server = createServer(starting);
  await listen(server, config.host, config.port);
  const url = loopbackUrl(server, config);
  const effective: Config = Object.freeze({ ...config, advertiseUrl: config.advertiseUrl ?? url });

  // replaced by the secret service's mask once the store is open
  let maskSecrets = (text: string): string => text;
  const logger =
    options.logStream === false
      ? false
      : loggerOptions({
          level: config.logLevel,
          // every secret value the secret service knows is masked in every log line
          mask: (text) => maskSecrets(text),
          ...(options.logStream ? { stream: options.logStream } : {}),
        });
  // pino reads its stream from the second argument (Fastify reads `stream` from the options)
  const log = logger === false ? undefined : pino(logger, logger.stream);
  let runtime: Runtime | undefined;
  let cron: CronScheduler | undefined;
  let cleanup: CleanupJob | undefined;
  // files sent to the API are compiled on a worker thread: a large one never stalls the server
  const compiler = startCompileWorker();
  try {
    // the secret store's key also seals run inputs that hold a secret, so it is read first
    const encryption = await resolveEncryptionKey(effective);
    if (encryption.created) log?.info(`created the secret store's encryption key in ${encryption.source} (mode 0600)`);
    const cipher = createSecretCipher(encryption.key);
    runtime = await createRuntime(effective, {
      ...options,
      inputSeal: options.inputSeal ?? cipherInputSeal(cipher),
      callbackServedAt: url,
      warn: options.warn ?? ((message) => log?.warn(message)),
    });
    const tokens = createTokenService(runtime.store.apiTokens);
    const lifecycle: Lifecycle = { accepting: true };
    const secrets = await openSecrets(
      runtime.store,
      cipher,
      encryption.source,
      { ...config.secrets, ...options.secrets },
      log,
    );
    maskSecrets = (text) => secrets.mask(text);
    // callbacks of task runs another replica carries are applied through the store
    runtime.registry.setRemote(
      createStoreCallbacks({
        store: runtime.store,
        secretsFor: (workflow) => secrets.secretsFor(workflow),
        globalSecrets: { ...config.secrets, ...options.secrets },
        events: runtime.events,
        seal: options.inputSeal ?? cipherInputSeal(cipher),
        eventsWritten: runtime.eventsWritten,
      }),
    );
    const starter = createWorkflowRunStarter({
      store: runtime.store,
      engine: runtime.engine,
      accepting: () => lifecycle.accepting,
      secretsFor: (workflow) => secrets.secretsFor(workflow),
    });
    const deps: ApiDeps = {
      config: effective,
      store: runtime.store,
      engine: runtime.engine,
      callbacks: runtime.registry,
      tokens,
      lifecycle,
      starter,
      secrets,
      webhooks: createWebhookReceiver({
        store: runtime.store,
        starter,
        secrets,
        replayWindowMs: effective.webhookReplayWindowMs,
      }),
      approvals: createApprovalService({ store: runtime.store, engine: runtime.engine }),
      compiler,
      clock: Date.now,
      ...(options.sseHeartbeatMs === undefined ? {} : { sseHeartbeatMs: options.sseHeartbeatMs }),
    };
    let fastifyHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
    const app = await buildApp(deps, {
      logger,
      ...(options.uiDir === undefined ? {} : { uiDir: options.uiDir }),
      serverFactory: (handler) => {
        fastifyHandler = handler;
        return server;
      },
    });
    await app.ready();
    await bootstrapAdminToken(effective, runtime, tokens, (m) => app.log.info(m));
    // Fastify's handler only once the app is ready: a request routed before that crashes it.
    // Recovery comes after, since resumed components call back on this server.
    if (fastifyHandler === undefined) throw new Error('Fastify did not call serverFactory');
    server.off('request', starting);
    server.on('request', fastifyHandler);
    const resumed = await runtime.engine.start((run) =>
      secrets.secretsFor(run.workflow).catch((error: unknown) => {
        app.log.warn(`run ${run.id} resumes without its secrets: ${messageOf(error)}`);
        return {};
      }),
    );
    if (resumed.length > 0) app.log.info(`took over ${resumed.length} unfinished or queued run(s)`);
    cron = createCronScheduler({
      store: runtime.store,
      starter,
      engineId: effective.engineId,
      ...(options.cronPollMs === undefined ? {} : { pollMs: options.cronPollMs }),
      log: { info: (m) => app.log.info(m), warn: (m) => app.log.warn(m) },
    });
    await cron.start();
    const engine = runtime.engine;
    cleanup = startCleanupJob({
      store: runtime.store,
      settings: effective,
      owner: () => engine.replicaId ?? effective.engineId,
      releaseWorkspace: (runId) => engine.releaseKeptWorkspace(runId),
      log: { info: (m) => app.log.info(m), warn: (m) => app.log.warn(m) },
    });
    // replicas and PostgreSQL sharing a few cores: fewer switches (bench/README.md, "Session 17")
    if (effective.batchScheduling && runtime.store.dialect === 'postgres') {
      const batch = useBatchScheduling();
      if (batch instanceof Error) app.log.warn(`batch scheduling: ${batch.message}; going on with the default policy`);
      else if (batch) app.log.info('running under SCHED_BATCH (batchScheduling; local components inherit it)');
    }
    // after a burst of runs, V8's young generation is given back once the server is idle
    const addon = nativeSpawnAddon();
    const memory = startIdleMemoryTrim({
      log: (m) => app.log.debug(m),
      ...(addon === undefined ? {} : { trimAllocator: () => addon.trim() }),
    });
    app.log.info(`pilotage serving on ${url} (executor ${runtime.executorName}, store ${runtime.store.dialect})`);

    const parts: ServerParts = { config: effective, lifecycle, cron, cleanup, memory, runtime, app, server, compiler };
    return { url, app, runtime, tokens, lifecycle, close: once(() => stopServer(parts)) };
  } catch (error) {
    await cron?.stop();
    await cleanup?.stop();
    await compiler.close();
    await runtime?.close({ cancel: true });
    await closeServer(server);
    throw error;
  }
}

/** Listen on `host:port`; a ConfigError naming the address when that fails (port taken, no such interface). */
function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(new ConfigError(`cannot listen on ${host}:${port}: ${messageOf(error)} (set --port or PILOTAGE_PORT)`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * The base URL of a listening server as this machine reaches it: the bound port, and the
 * loopback address when listening on every interface.
 */
function loopbackUrl(server: Server, config: Config): string {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The secret service over the store's secrets, with the encryption key resolved (created on a
 * first start); `extra` are the configured secrets, masked as well. Logs the secrets this key
 * cannot decrypt (runs reading them are refused).
 */
async function openSecrets(
  store: Store,
  cipher: SecretCipher,
  keySource: string,
  extra: Readonly<Record<string, string>>,
  log: Logger | undefined,
): Promise<SecretService> {
  const secrets = createSecretService({ store: store.secrets, cipher, extra: Object.values(extra) });
  const unreadable = await secrets.refresh();
  if (unreadable.length > 0) {
    log?.warn(
      `${unreadable.length} secret(s) cannot be decrypted with this encryption key (${keySource}): ${unreadable.join(', ')}; runs reading them are refused`,
    );
  }
  return secrets;
}

/** On a store holding no API token, issue an admin token into `<dataDir>/admin-token` (mode 0600). */
async function bootstrapAdminToken(
  config: Config,
  runtime: Runtime,
  tokens: TokenService,
  info: (message: string) => void,
): Promise<void> {
  if ((await runtime.store.apiTokens.count()) > 0) return;
  const { token } = await tokens.issue({ name: 'bootstrap-admin', scopes: ['admin'] });
  await mkdir(config.dataDir, { recursive: true });
  const file = join(config.dataDir, 'admin-token');
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  info(`created the first admin API token in ${file} (mode 0600); revoke it once you have your own`);
}

/** What `stopServer` releases. */
interface ServerParts {
  readonly config: Config;
  readonly lifecycle: Lifecycle;
  readonly cron: CronScheduler;
  readonly cleanup: CleanupJob;
  readonly memory: IdleMemoryTrim;
  readonly runtime: Runtime;
  readonly app: FastifyInstance;
  readonly server: Server;
  readonly compiler: CompileWorker;
}

/** `RunningServer.close`, in order: see its doc comment. */
async function stopServer({
  config,
  lifecycle,
  cron,
  cleanup,
  memory,
  runtime,
  app,
  server,
  compiler,
}: ServerParts): Promise<void> {
  lifecycle.accepting = false;
  memory.stop();
  await cron.stop();
  await cleanup.stop();
  const { engine } = runtime;
  // runs only waiting for an approval are let go of: another replica, or the next start, carries them on
  const parked = await engine.release('waiting');
  if (parked > 0)
    app.log.info(`let go of ${parked} run(s) waiting for approval, for another replica or the next start`);
  const active = engine.activeRuns().length;
  if (active > 0) app.log.info(`shutting down: waiting up to ${config.shutdownGraceMs}ms for ${active} run(s)`);
  // the HTTP server stays up meanwhile: running components still call back
  const grace = delay(config.shutdownGraceMs);
  const closing = engine.close();
  const ended = await Promise.race([closing.then(() => true), grace.done.then(() => false)]);
  grace.cancel();
  if (!ended) {
    const left = engine.activeRuns();
    if (await engine.othersAlive().catch(() => false)) {
      // a rolling restart: the other replicas carry the runs on (containers re-attached)
      app.log.warn(
        `shutdown grace of ${config.shutdownGraceMs}ms ran out; handing ${left.length} run(s) over to the other replicas`,
      );
      await engine.release('all');
    } else {
      const reason = `server shutting down: the shutdown grace of ${config.shutdownGraceMs}ms ran out`;
      app.log.warn(`${reason}; cancelling ${left.length} run(s)`);
      await Promise.all(left.map((id) => engine.cancelRun(id, reason).catch(() => undefined)));
    }
    await closing;
  }
  await app.close();
  await compiler.close();
  // Fastify closes only servers it listened on itself; this one was listening before it
  await closeServer(server);
  // last, so no request in flight meets a closed store
  await runtime.close();
  app.log.info('pilotage stopped');
}

/** `fn` run at most once: later calls get the first call's promise. */
function once(fn: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => (result ??= fn());
}

/** Close `server`, ending the connections still open (keep-alive, SSE streams) rather than waiting. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A timer that resolves `done` after `ms`, unless cancelled first (then `done` never resolves). */
function delay(ms: number): { done: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { done, cancel: () => clearTimeout(timer) };
}
