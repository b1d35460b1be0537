import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli } from './support/cli.js';

const STEPS = ['CO_COMPONENT_START', 'CO_TASK_START', 'CO_TASK_STATUS', 'CO_TASK_RESULT', 'CO_COMPONENT_STOP'];

/** Why the C component cannot be built here (no `cc`), or undefined; under CI=true a missing cc fails. */
function noCompiler(): string | undefined {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch (error) {
    if (process.env['CI'] === 'true') throw new Error(`components/greet-c needs cc in CI: ${String(error)}`);
    return 'no C compiler (cc) here';
  }
}

/**
 * The two example components that keep one connection for all five callbacks: each copied into
 * `dir` (component.yaml beside its program), the C one compiled there.
 */
const COMPONENTS = [
  {
    name: 'greet-c',
    skip: noCompiler(),
    async prepare(dir: string): Promise<string> {
      const binary = join(dir, 'greet');
      execFileSync('cc', ['-O2', '-Wall', '-Werror', '-o', binary, join(ROOT, 'components/greet-c/greet.c')]);
      await copyFile(join(ROOT, 'components/greet-c/component.yaml'), join(dir, 'component.yaml'));
      return binary;
    },
  },
  {
    name: 'greet-bash',
    skip: undefined,
    async prepare(dir: string): Promise<string> {
      const script = join(dir, 'greet.sh');
      await copyFile(join(ROOT, 'components/greet-bash/greet.sh'), script);
      await chmod(script, 0o755);
      await copyFile(join(ROOT, 'components/greet-bash/component.yaml'), join(dir, 'component.yaml'));
      return script;
    },
  },
];

interface Seen {
  readonly path: string;
  readonly body: string;
  readonly socket: number;
}

/**
 * A stand-in engine on a free loopback port: records each callback (path, body, which TCP
 * connection carried it) and answers with `answer` (default 200 `{"ok":true}`).
 */
async function fakeEngine(
  answer: (seen: Seen, res: ServerResponse) => void = (_s, res) => res.end('{"ok":true}'),
): Promise<{ server: Server; base: string; seen: Seen[]; connections: () => number }> {
  const seen: Seen[] = [];
  let sockets = 0;
  const ids = new WeakMap<object, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const one = { path: req.url ?? '', body, socket: ids.get(req.socket) ?? -1 };
      seen.push(one);
      res.setHeader('content-type', 'application/json');
      answer(one, res);
    });
  });
  server.on('connection', (socket) => ids.set(socket, ++sockets));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, base: `http://127.0.0.1:${port}`, seen, connections: () => sockets };
}

function runGreet(
  binary: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(binary, args, { env, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const urls = (base: string): Record<string, string> =>
  Object.fromEntries(
    STEPS.map((name) => [name, `${base}/v1/callbacks/tok/${name.slice(3).toLowerCase().replaceAll('_', '-')}`]),
  );

for (const component of COMPONENTS) {
  describe(`components/${component.name}: the contract over one kept-alive connection`, () => {
    let dir: string;
    let binary: string;
    const { skip } = component;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), `pilotage-${component.name}-`));
      if (skip === undefined) binary = await component.prepare(dir);
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    test(
      'pilotage component test: every step accepted by the real engine, the greeting as output',
      { skip },
      async () => {
        const r = await runCli(
          [
            'component',
            'test',
            join(dir, 'component.yaml'),
            '--data',
            JSON.stringify({ name: 'Ada "q" \\ é' }),
            '--json',
          ],
          { env: { PILOTAGE_DATA_DIR: dir, PILOTAGE_DB: join(dir, 'p.db') } },
        );
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const report = JSON.parse(r.stdout) as {
          ok: boolean;
          steps: { env: string; seen: boolean }[];
          output: Record<string, unknown>;
          refused?: unknown[];
        };
        assert.equal(report.ok, true, r.stdout);
        assert.deepEqual(
          report.steps.filter((s) => s.seen).map((s) => s.env),
          STEPS,
        );
        assert.deepEqual(report.output, { greeting: 'Hello, Ada "q" \\ é!' });
      },
    );

    test('all five callbacks go over one TCP connection, in order, with their bodies', { skip }, async () => {
      const engine = await fakeEngine();
      try {
        const r = await runGreet(binary, { ...urls(engine.base), CO_INPUT_NAME: 'Bob' });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'Hello, Bob!\n');
        assert.deepEqual(
          engine.seen.map((s) => s.path),
          STEPS.map((name) => `/v1/callbacks/tok/${name.slice(3).toLowerCase().replaceAll('_', '-')}`),
        );
        assert.deepEqual(JSON.parse(engine.seen[3]!.body), { status: 'success', output: { greeting: 'Hello, Bob!' } });
        assert.ok('progress' in (JSON.parse(engine.seen[2]!.body) as object));
        assert.equal(engine.connections(), 1);
        assert.ok(engine.seen.every((s) => s.socket === 1));
      } finally {
        engine.server.close();
      }
    });

    test('an answer with Connection: close makes the next call open a new connection', { skip }, async () => {
      const engine = await fakeEngine((seen, res) => {
        if (seen.path.endsWith('task-start')) res.setHeader('connection', 'close');
        res.end('{"ok":true}');
      });
      try {
        const r = await runGreet(binary, urls(engine.base));
        assert.equal(r.code, 0, r.stderr);
        assert.equal(engine.seen.length, 5);
        assert.equal(engine.connections(), 2);
        assert.deepEqual(
          engine.seen.map((s) => s.socket),
          [1, 1, 2, 2, 2],
        );
      } finally {
        engine.server.close();
      }
    });

    test(
      'a refused call ends it with exit code 1 and the engine message on stderr; no later call',
      { skip },
      async () => {
        const engine = await fakeEngine((seen, res) => {
          if (seen.path.endsWith('task-status')) {
            res.statusCode = 409;
            res.end('{"ok":false,"code":"TASK_RUN_ENDED","message":"ended"}');
          } else res.end('{"ok":true}');
        });
        try {
          const r = await runGreet(binary, urls(engine.base));
          assert.equal(r.code, 1);
          assert.match(r.stderr, /CO_TASK_STATUS answered 409: .*TASK_RUN_ENDED/);
          assert.equal(engine.seen.length, 3);
        } finally {
          engine.server.close();
        }
      },
    );

    test(
      'an https URL is refused with a clear message; without CO_* or with --no-callbacks no call',
      { skip },
      async () => {
        const https = await runGreet(binary, { CO_COMPONENT_START: 'https://127.0.0.1:1/x' });
        assert.equal(https.code, 1);
        assert.match(https.stderr, /only http:\/\/ callback URLs are supported/);
        const engine = await fakeEngine();
        try {
          const quiet = await runGreet(binary, urls(engine.base), ['--no-callbacks']);
          assert.equal(quiet.code, 0, quiet.stderr);
          assert.equal(quiet.stdout, 'Hello, world!\n');
          const alone = await runGreet(binary, {});
          assert.equal(alone.code, 0);
          assert.equal(engine.seen.length, 0);
        } finally {
          engine.server.close();
        }
      },
    );
  });
}
