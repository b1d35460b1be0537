import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createApiHarness, type ApiHarness } from './support/api-harness.js';
import { CLI_BUILT, ROOT, runCli } from './support/cli.js';
import { runInPty } from './support/pty.js';

/** Run `script` in a real shell (`bash`, `zsh`, `fish`) with `env`; resolves with its stdout. */
function shell(program: string, args: readonly string[], env: Record<string, string>, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${program} exited ${code}: ${err}`))));
  });
}

const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * Why a shell's test cannot run here (it is not installed), or undefined. In CI a missing shell
 * fails instead: .ci/run installs zsh and fish.
 */
function shellMissing(name: string): string | undefined {
  const found = (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, name)));
  if (found) return undefined;
  if (process.env.CI === 'true') throw new Error(`the completion tests need ${name} in CI (.ci/run installs it)`);
  return `${name} is not installed`;
}

describe('shell completion (the scripts sourced in real shells, candidates from files, the local store and a server)', () => {
  let dir: string;
  let work: string;
  let env: Record<string, string>;
  let runId: string;
  let server: ApiHarness;

  /** What bash's completion function offers for `line` (the last word under the cursor). */
  const bash = async (line: string, extra: Record<string, string> = {}): Promise<string[]> => {
    const words = line.split(' ');
    const script = [
      'source <(pilotage completion bash)',
      `COMP_WORDS=(${words.map(quote).join(' ')})`,
      `COMP_CWORD=${words.length - 1}`,
      '_pilotage',
      `printf '%s\\n' "\${COMPREPLY[@]}"`,
    ].join('\n');
    const out = await shell('bash', ['--norc', '--noprofile', '-c', script], { ...env, ...extra }, work);
    return out
      .split('\n')
      .filter((l) => l !== '')
      .sort();
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-completion-'));
    const bin = join(dir, 'bin');
    work = join(dir, 'work');
    await mkdir(bin);
    await mkdir(join(work, 'sub'), { recursive: true });
    await writeFile(join(bin, 'pilotage'), `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(CLI_BUILT)} "$@"\n`);
    await chmod(join(bin, 'pilotage'), 0o755);
    const workflow =
      'apiVersion: pilotage.dev/v1\nkind: Workflow\nname: hello\nstages:\n  - name: s\n    actions:\n      - { name: a, run: "true" }\n';
    await writeFile(join(work, 'hello.yaml'), workflow);
    await writeFile(join(work, 'other.json'), '{}');
    await writeFile(join(work, 'notes.txt'), 'not a workflow');
    env = {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: join(dir, 'home'),
      XDG_CONFIG_HOME: join(dir, 'config'),
      XDG_DATA_HOME: join(dir, 'data'),
      LANG: 'C.UTF-8',
      TERM: 'xterm',
    };
    const ran = await runCli(['run', join(work, 'hello.yaml'), '--json', '--no-logs'], { env });
    assert.equal(ran.code, 0, ran.stderr);
    runId = JSON.parse(ran.stdout.trim().split('\n').at(-1)!).run.id;

    server = await createApiHarness();
    const applied = await server.call('POST', '/v1/workflows', {
      body: { source: workflow.replace('hello', 'deploy') },
    });
    assert.equal(applied.status, 201, JSON.stringify(applied.body));
    const component = await readFile(join(ROOT, 'components/greet-sh/component.yaml'), 'utf8');
    const registered = await server.call('POST', '/v1/components', { body: { source: component } });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('bash: commands, subcommands, flags and fixed option values', async () => {
    assert.deepEqual(await bash('pilotage ru'), ['run', 'runs']);
    assert.deepEqual(await bash('pilotage runs l'), ['list', 'logs']);
    assert.deepEqual(await bash('pilotage runs list --st'), ['--state']);
    assert.deepEqual(await bash('pilotage runs list --state f'), ['failed']);
    assert.deepEqual(await bash('pilotage run x.yaml --executor '), ['auto', 'docker', 'kubernetes', 'local']);
    assert.deepEqual(await bash('pilotage completion '), ['bash', 'fish', 'zsh']);
    assert.ok((await bash('pilotage ')).includes('completion'));
    assert.deepEqual(await bash('pilotage __comp'), [], 'the hidden command is not offered');
  });

  test('bash: workflow files are offered from the local folder (YAML and JSON, and folders)', async () => {
    assert.deepEqual(await bash('pilotage run '), ['hello.yaml', 'other.json', 'sub']);
    assert.deepEqual(await bash('pilotage validate h'), ['hello.yaml']);
  });

  test('bash: run ids from the local store', async () => {
    assert.deepEqual(await bash('pilotage runs show '), [runId]);
    assert.deepEqual(await bash(`pilotage runs logs ${runId.slice(0, 6)}`), [runId]);
    assert.deepEqual(await bash('pilotage runs show ', { XDG_DATA_HOME: join(dir, 'empty') }), [], 'no store: nothing');
  });

  test('bash: workflow and component names and run ids from the server', async () => {
    const remote = { PILOTAGE_SERVER: server.server.url, PILOTAGE_TOKEN: server.admin };
    assert.deepEqual(await bash('pilotage workflow show ', remote), ['deploy']);
    assert.deepEqual(await bash('pilotage run ', remote), ['deploy'], 'with a server, run takes a stored name');
    assert.deepEqual(await bash('pilotage component show g', remote), ['greet-sh@1.0.0']);
    const started = await server.call('POST', '/v1/workflows/deploy/runs', { body: {} });
    assert.deepEqual(await bash('pilotage runs cancel ', remote), [started.body.id]);
    assert.deepEqual(
      await bash(`pilotage workflow show --server ${server.server.url} --token ${server.admin} `),
      ['deploy'],
      '--server and --token typed on the line',
    );
    assert.deepEqual(
      await bash('pilotage workflow show ', { PILOTAGE_SERVER: 'http://127.0.0.1:9' }),
      [],
      'unreachable',
    );
  });

  test('bash -i in a pseudo-terminal: TAB completes the line', async () => {
    const session = await runInPty(['bash', '--norc', '--noprofile', '-i'], {
      env: { ...env, PS1: 'ready$ ' },
      steps: [
        { send: `cd ${quote(work)} && source <(pilotage completion bash)\n`, expect: 'ready\\$ ' },
        { send: 'pilotage runs li\t', expect: 'pilotage runs list ' },
        { send: '\u0015exit\n' },
      ],
    });
    assert.deepEqual(session.matched.slice(0, 2), [true, true], session.output.toString());
  });

  test('zsh: the script under compinit, driven in a pseudo-terminal', { skip: shellMissing('zsh') }, async () => {
    const session = await runInPty(['zsh', '-f', '-i'], {
      env: { ...env, PS1: 'ready%# ' },
      steps: [
        {
          send: `cd ${quote(work)}; autoload -U compinit; compinit -u; source <(pilotage completion zsh)\n`,
          expect: 'ready',
        },
        { send: 'pilotage runs li\t', expect: 'pilotage runs list' },
        { send: '\u0015pilotage completion z\t', expect: 'pilotage completion zsh' },
        { send: '\u0015exit\n' },
      ],
    });
    assert.deepEqual(session.matched.slice(0, 3), [true, true, true], session.output.toString());
  });

  test('fish: complete -C with the script loaded', { skip: shellMissing('fish') }, async () => {
    const complete = async (line: string): Promise<string[]> => {
      const out = await shell(
        'fish',
        ['--no-config', '-c', `pilotage completion fish | source; complete -C ${quote(line)}`],
        env,
        work,
      );
      return out
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split('\t')[0]!)
        .sort();
    };
    assert.deepEqual(await complete('pilotage runs l'), ['list', 'logs']);
    assert.deepEqual(await complete('pilotage runs list --state s'), ['succeeded']);
    assert.deepEqual(await complete('pilotage runs show '), [runId]);
    assert.deepEqual(await complete('pilotage run '), ['hello.yaml', 'other.json', 'sub/']);
  });
});
