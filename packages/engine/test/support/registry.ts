import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freeLoopbackPort } from '../../src/executor/shared/free-port.js';
import { podmanGlobalFlags } from './podman.js';

const run = promisify(execFile);
const INSTALL_HINT = 'apt-get install docker-registry apache2-utils';
const READY_TIMEOUT_MS = 20_000;

/** A private image registry (Debian's docker-registry, distribution 2.8) with one user. */
export interface TestRegistry {
  /** `127.0.0.1:<port>`: the registry part of its image names */
  readonly host: string;
  readonly username: string;
  readonly password: string;
  /**
   * Build an image `<host>/<name>` from `base` plus the files given (path in the image → text),
   * push it with the registry's credentials, then remove it from the local store (so that
   * whoever runs it must pull it). Returns its full name.
   */
  push(name: string, base: string, files: Readonly<Record<string, string>>): Promise<string>;
  /** Stop the registry, remove its storage and the images `push` made and anything pulled since. */
  stop(): Promise<void>;
}

/** Why the registry tests cannot run here (none under CI=true: then it throws). */
export async function registrySkipReason(): Promise<string | undefined> {
  const missing: string[] = [];
  for (const tool of ['docker-registry', 'htpasswd']) {
    if (
      !(await run('sh', ['-c', `command -v ${tool}`]).then(
        () => true,
        () => false,
      ))
    )
      missing.push(tool);
  }
  if (missing.length === 0) return undefined;
  const reason = `${missing.join(' and ')} not found; ${INSTALL_HINT}`;
  if (process.env['CI'] === 'true') throw new Error(`the registry tests need a registry in CI: ${reason}`);
  return reason;
}

function podman(args: readonly string[]): Promise<{ stdout: string }> {
  return run('podman', [...podmanGlobalFlags(), ...args], { maxBuffer: 1 << 24 });
}

/**
 * Start a registry on a free loopback port, plain HTTP (clients reach it with TLS verification
 * off, as for an insecure registry), with htpasswd (bcrypt) authentication: every request but
 * the version check needs the user's credentials.
 */
export async function startRegistry(username = 'pilotage-ci', password = 'reg-pass-7d1e'): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-registry-'));
  const port = await freeLoopbackPort();
  const host = `127.0.0.1:${port}`;
  const { stdout: htpasswd } = await run('htpasswd', ['-Bbn', username, password]);
  await writeFile(join(dir, 'htpasswd'), htpasswd);
  await writeFile(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
      `http: { addr: "${host}", secret: "pilotage-test" }`,
      `auth: { htpasswd: { realm: pilotage-test, path: ${join(dir, 'htpasswd')} } }`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const pushed: string[] = [];
  const stop = async (): Promise<void> => {
    for (const image of pushed) await podman(['rmi', '-f', image]).catch(() => undefined);
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForRegistry(port, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    host,
    username,
    password,
    async push(name, base, files) {
      const image = `${host}/${name}`;
      const context = await mkdtemp(join(dir, 'build-'));
      const lines = [`FROM ${base}`];
      for (const [index, [path, text]] of Object.entries(files).entries()) {
        await writeFile(join(context, `file-${index}`), text);
        lines.push(`COPY file-${index} ${path}`);
      }
      await writeFile(join(context, 'Containerfile'), `${lines.join('\n')}\n`);
      pushed.push(image);
      await podman(['build', '--quiet', '--pull=never', '-t', image, '-f', join(context, 'Containerfile'), context]);
      await podman(['push', '--quiet', '--tls-verify=false', '--creds', `${username}:${password}`, image]);
      await podman(['rmi', image]);
      return image;
    },
    stop,
  };
}

async function waitForRegistry(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}`);
    const status = await new Promise<number>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/v2/' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.end();
    });
    // 401: up, and asking for credentials
    if (status === 401) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`docker-registry did not answer on 127.0.0.1:${port} within ${READY_TIMEOUT_MS} ms`);
}
