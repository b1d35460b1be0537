import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { ApiDeps, Lifecycle } from './api/api-deps.js';
import { buildApp } from './api/build-app.js';
import { loggerOptions } from './api/logger-options.js';
import { createTokenService, type TokenService } from './api/token-service.js';
import type { Config } from './config/config.js';
import { ConfigError, messageOf } from './domain/errors.js';
import { createApprovalService } from './service/approval-service.js';
import { createCronScheduler, type CronScheduler } from './service/cron-scheduler.js';
import { resolveEncryptionKey } from './service/encryption-key.js';
import { createSecretCipher } from './service/secret-cipher.js';
import { createSecretService } from './service/secret-service.js';
import { createWebhookReceiver } from './service/webhook-receiver.js';
import { createWorkflowRunStarter } from './service/workflow-run-starter.js';
import { createRuntime, type Runtime, type RuntimeOptions } from './main.js';

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
}

/**
 * Start the API server: listen on `config.host:config.port` first (so the callback URL is known),
 * then assemble the runtime with callbacks mounted on the same port, build the app, resume runs
 * a previous process left unfinished, and create a first admin token in
 * `<dataDir>/admin-token` (mode 0600) when the store holds none.
 */
export async function startServer(config: Config, options: ServeOptions = {}): Promise<RunningServer> {
  // Until the app is attached, answer 503 at once rather than leave early requests hanging.
  const starting = (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end(JSON.stringify({ code: 'UNAVAILABLE', message: 'the server is starting; retry shortly' }));
  };
  const server = createServer(starting);
  let fastifyHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  await listen(server, config.host, config.port);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const loopbackHost = ['0.0.0.0', '::', ''].includes(config.host) ? '127.0.0.1' : config.host;
  const url = `http://${loopbackHost.includes(':') ? `[${loopbackHost}]` : loopbackHost}:${port}`;
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
  try {
    runtime = await createRuntime(effective, {
      ...options,
      callbackServedAt: url,
      warn: options.warn ?? ((message) => log?.warn(message)),
    });
    const tokens = createTokenService(runtime.store.apiTokens);
    const lifecycle: Lifecycle = { accepting: true };
    const encryption = await resolveEncryptionKey(effective);
    if (encryption.created) log?.info(`created the secret store's encryption key in ${encryption.source} (mode 0600)`);
    const secrets = createSecretService({
      store: runtime.store.secrets,
      cipher: createSecretCipher(encryption.key),
      extra: Object.values({ ...config.secrets, ...options.secrets }),
    });
    const unreadable = await secrets.refresh();
    if (unreadable.length > 0) {
      log?.warn(
        `${unreadable.length} secret(s) cannot be decrypted with this encryption key (${encryption.source}): ${unreadable.join(', ')}; runs reading them are refused`,
      );
    }
    maskSecrets = (text) => secrets.mask(text);
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
      webhooks: createWebhookReceiver({ store: runtime.store, starter, secrets }),
      approvals: createApprovalService({ store: runtime.store, engine: runtime.engine }),
      clock: Date.now,
    };
    const app = await buildApp(deps, {
      logger,
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
    const resumed = await runtime.engine.recover((run) =>
      secrets.secretsFor(run.workflow).catch((error: unknown) => {
        app.log.warn(`run ${run.id} resumes without its secrets: ${messageOf(error)}`);
        return {};
      }),
    );
    if (resumed.length > 0) app.log.info(`resumed ${resumed.length} unfinished run(s)`);
    cron = createCronScheduler({
      store: runtime.store,
      starter,
      engineId: effective.engineId,
      ...(options.cronPollMs === undefined ? {} : { pollMs: options.cronPollMs }),
      log: { info: (m) => app.log.info(m), warn: (m) => app.log.warn(m) },
    });
    await cron.start();
    app.log.info(`pilotage serving on ${url} (executor ${runtime.executorName}, store ${runtime.store.dialect})`);

    const owned = runtime;
    const scheduler = cron;
    let closing: Promise<void> | undefined;
    return {
      url,
      app,
      runtime: owned,
      tokens,
      lifecycle,
      close: () =>
        (closing ??= (async () => {
          lifecycle.accepting = false;
          await scheduler.stop();
          const { engine } = owned;
          // runs only waiting for an approval are left for the next start to carry on
          const parked = engine.detachWaiting();
          if (parked > 0) app.log.info(`left ${parked} run(s) waiting for approval to the next start`);
          const active = engine.activeRuns().length;
          if (active > 0) app.log.info(`shutting down: waiting up to ${config.shutdownGraceMs}ms for ${active} run(s)`);
          // the HTTP server stays up meanwhile: running components still call back
          const grace = delay(config.shutdownGraceMs);
          const ended = await Promise.race([engine.close().then(() => true), grace.done.then(() => false)]);
          grace.cancel();
          if (!ended) {
            const reason = `server shutting down: the shutdown grace of ${config.shutdownGraceMs}ms ran out`;
            const left = engine.activeRuns();
            app.log.warn(`${reason}; cancelling ${left.length} run(s)`);
            await Promise.all(left.map((id) => engine.cancelRun(id, reason).catch(() => undefined)));
            await engine.close();
          }
          await app.close();
          // Fastify closes only servers it listened on itself; this one was listening before it
          await closeServer(server);
          // last, so no request in flight meets a closed store
          await owned.close();
          app.log.info('pilotage stopped');
        })()),
    };
  } catch (error) {
    await cron?.stop();
    await runtime?.close({ cancel: true });
    await closeServer(server);
    throw error;
  }
}

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
