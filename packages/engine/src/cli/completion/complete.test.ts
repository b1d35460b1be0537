import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildProgram } from '../program.js';
import { complete, type Completion, type CompletionSources, type Target } from './complete.js';

const seen: { source: string; target: Target }[] = [];
const sources: CompletionSources = {
  workflows: async (target) => {
    seen.push({ source: 'workflows', target });
    return [{ value: 'build' }, { value: 'deploy', description: 'v2' }];
  },
  components: async (target) => {
    seen.push({ source: 'components', target });
    return [{ value: 'git-clone@1.2.0' }];
  },
  runs: async (target) => {
    seen.push({ source: 'runs', target });
    return [{ value: '01JRUN', description: 'build #3 failed' }];
  },
};
const program = await buildProgram('all');
const values = (completion: Completion): string[] => {
  assert.equal(completion.kind, 'values');
  return completion.kind === 'values' ? completion.values.map((c) => c.value) : [];
};
const at = (line: string, server?: string) => complete(program, line.split(' '), sources, server);

test('commands and subcommands, filtered by the word typed; hidden ones left out', async () => {
  assert.deepEqual(values(await at('w')), ['workflow']);
  assert.deepEqual(values(await at('workflow ')), ['apply', 'list', 'show', 'diff', 'enable', 'disable']);
  assert.deepEqual(values(await at('__')), []);
});

test("flags of the command reached, not of its parent; an option's value is skipped when walking", async () => {
  const flags = values(await at('runs list --'));
  assert.ok(flags.includes('--state') && flags.includes('--help'));
  assert.ok(!flags.includes('--follow'), 'a flag of runs logs');
  assert.deepEqual(values(await at('runs list --state failed --li')), ['--limit']);
  assert.deepEqual(values(await at('runs list --workflow list --st')), ['--state'], 'an option value is no command');
});

test('option values: fixed lists, per command where they differ, and the --opt=value form', async () => {
  assert.deepEqual(values(await at('runs list --state ')), [
    'queued',
    'running',
    'succeeded',
    'failed',
    'errored',
    'cancelled',
  ]);
  assert.deepEqual(values(await at('events list --state ')), ['pending', 'delivered', 'dead']);
  assert.deepEqual(values(await at('runs retry ID --from ')), ['failed', 'start']);
  assert.deepEqual(await at('serve --config '), { kind: 'files', extensions: ['yaml', 'yml', 'json'] });
  assert.deepEqual(values(await at('runs list --state=failed --limit=3 --tr')), ['--trigger']);
});

test('positional arguments: files for a local run, names from the server, run ids', async () => {
  assert.deepEqual(await at('run '), { kind: 'files', extensions: ['yaml', 'yml', 'json'] });
  seen.length = 0;
  assert.deepEqual(values(await at('run ', 'http://configured')), ['build', 'deploy']);
  assert.deepEqual(seen, [{ source: 'workflows', target: { server: 'http://configured' } }]);
  assert.deepEqual(
    await at('run --db x.db ', 'http://configured'),
    { kind: 'files', extensions: ['yaml', 'yml', 'json'] },
    'an explicit --db means a local run',
  );
  seen.length = 0;
  assert.deepEqual(values(await at('runs show --server http://typed --token t 01')), ['01JRUN']);
  assert.deepEqual(seen, [{ source: 'runs', target: { server: 'http://typed', token: 't' } }]);
  assert.deepEqual(values(await at('component show git')), ['git-clone@1.2.0']);
  assert.deepEqual(values(await at('approve ')), ['01JRUN']);
  assert.deepEqual(values(await at('approve 01JRUN ')), [], 'the stage: nothing offered');
  assert.deepEqual(await at('component build '), { kind: 'dirs' });
  assert.deepEqual(values(await at('schema ')), ['workflow', 'component']);
});
