import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from './support/cli.js';

describe('XDG locations: config at $XDG_CONFIG_HOME/pilotage/config.yaml, data at $XDG_DATA_HOME/pilotage', () => {
  let dir: string;
  let workflow: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-xdg-'));
    workflow = join(dir, 'hello.yaml');
    await writeFile(
      workflow,
      'apiVersion: pilotage.dev/v1\nkind: Workflow\nname: hello\nstages:\n  - name: s\n    actions:\n      - { name: a, run: "true" }\n',
    );
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('with no settings the store is $XDG_DATA_HOME/pilotage/pilotage.db, and runs list reads it back', async () => {
    const env = { HOME: join(dir, 'home1'), XDG_DATA_HOME: join(dir, 'data1') };
    const ran = await runCli(['run', workflow, '--plain'], { env });
    assert.equal(ran.code, 0, ran.stderr);
    assert.ok(existsSync(join(dir, 'data1/pilotage/pilotage.db')), 'the store is under XDG_DATA_HOME');
    assert.ok(!existsSync(join(dir, 'home1/.local/share/pilotage')), 'and nothing under HOME');
    const listed = await runCli(['runs', 'list', '--json'], { env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /"workflow":"hello"/);
  });

  test('XDG_DATA_HOME unset or relative: ~/.local/share/pilotage', async () => {
    const env = { HOME: join(dir, 'home2'), XDG_DATA_HOME: 'relative/ignored' };
    const ran = await runCli(['run', workflow, '--plain'], { env });
    assert.equal(ran.code, 0, ran.stderr);
    assert.ok(existsSync(join(dir, 'home2/.local/share/pilotage/pilotage.db')));
  });

  test('the config file under XDG_CONFIG_HOME is read by every command; flags and variables win over it', async () => {
    const config = join(dir, 'config3');
    await mkdir(join(config, 'pilotage'), { recursive: true });
    const db = join(dir, 'from-config.db');
    await writeFile(join(config, 'pilotage/config.yaml'), `db: ${db}\n`);
    const env = { HOME: join(dir, 'home3'), XDG_CONFIG_HOME: config, XDG_DATA_HOME: join(dir, 'data3') };
    const ran = await runCli(['run', workflow, '--plain'], { env });
    assert.equal(ran.code, 0, ran.stderr);
    assert.ok(existsSync(db), 'run used the db of the config file');
    assert.ok(!existsSync(join(dir, 'data3/pilotage/pilotage.db')));
    const listed = await runCli(['runs', 'list', '--json'], { env });
    assert.match(listed.stdout, /"workflow":"hello"/, 'runs list reads the same store');
    const overridden = join(dir, 'from-env.db');
    const viaEnv = await runCli(['run', workflow, '--plain'], { env: { ...env, PILOTAGE_DB: overridden } });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.ok(existsSync(overridden), 'PILOTAGE_DB wins over the file');
  });

  test('a bad key in that file is reported with the file and line; a missing PILOTAGE_CONFIG is an error', async () => {
    const config = join(dir, 'config4');
    await mkdir(join(config, 'pilotage'), { recursive: true });
    const file = join(config, 'pilotage/config.yaml');
    await writeFile(file, 'executor: local\ndatabase: x.db\n');
    const bad = await runCli(['runs', 'list'], { env: { HOME: join(dir, 'home4'), XDG_CONFIG_HOME: config } });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, new RegExp(`${file}:2:1: unknown key "database"`));
    const missing = await runCli(['runs', 'list'], {
      env: { HOME: join(dir, 'home4'), PILOTAGE_CONFIG: join(dir, 'nope.yaml') },
    });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read config file .*nope\.yaml/);
  });
});
