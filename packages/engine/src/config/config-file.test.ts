import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from './config.js';
import { configFilePath, parseConfigText } from './config-file.js';

test('a config file gives values below env vars and flags', () => {
  const file = parseConfigText('port: 9090\nhost: 0.0.0.0\neventSinks:\n  - stdout\n  - /tmp/e.jsonl\n', 'p.yaml');
  const fromFile = loadConfig({ env: {}, home: '/h', file });
  assert.equal(fromFile.port, 9090);
  assert.equal(fromFile.host, '0.0.0.0');
  assert.deepEqual(fromFile.eventSinks, ['stdout', '/tmp/e.jsonl']);
  const envWins = loadConfig({ env: { PILOTAGE_PORT: '7070' }, home: '/h', file });
  assert.equal(envWins.port, 7070);
  const flagWins = loadConfig({ env: { PILOTAGE_PORT: '7070' }, home: '/h', file, flags: { port: 6060 } });
  assert.equal(flagWins.port, 6060);
});

test('an unknown key names the file, line and a close known key', () => {
  assert.throws(() => parseConfigText('port: 1\nadvertizeUrl: http://x\n', 'conf.yaml'), {
    message: /^conf\.yaml:2:1: unknown key "advertizeUrl" \(did you mean "advertiseUrl"\?\)/,
  });
});

test('a nested value and a syntax error name their line', () => {
  assert.throws(() => parseConfigText('port:\n  nested: 1\n', 'c.yaml'), { message: /^c\.yaml:2:3: port must be/ });
  assert.throws(() => parseConfigText('port: [1\n', 'c.yaml'), { message: /^c\.yaml:\d+:\d+: / });
});

test('a bad value from the file is reported by its key, with the file, line and column', () => {
  assert.throws(() => parseConfigText('host: 0.0.0.0\nport: many\n', 'c.yaml'), {
    message: /^c\.yaml:2:7: port \(PILOTAGE_PORT\) must be a whole number/,
  });
  assert.throws(() => parseConfigText('shutdownGraceMs: soon\n', 'c.yaml'), {
    message: /^c\.yaml:1:18: shutdownGraceMs \(PILOTAGE_SHUTDOWN_GRACE\) must be a duration/,
  });
});

test('configFilePath: --config, else PILOTAGE_CONFIG, else the XDG file when it exists', async () => {
  const home = await mkdtemp(join(tmpdir(), 'pilotage-config-path-'));
  try {
    const xdg = join(home, 'xdg');
    assert.equal(configFilePath('/etc/p.yaml', { PILOTAGE_CONFIG: '/other.yaml' }, home), '/etc/p.yaml');
    assert.equal(configFilePath(undefined, { PILOTAGE_CONFIG: '/other.yaml' }, home), '/other.yaml');
    assert.equal(configFilePath(undefined, { XDG_CONFIG_HOME: xdg }, home), undefined, 'none there yet');
    await mkdir(join(xdg, 'pilotage'), { recursive: true });
    await writeFile(join(xdg, 'pilotage/config.yaml'), 'port: 9000\n');
    assert.equal(configFilePath(undefined, { XDG_CONFIG_HOME: xdg }, home), join(xdg, 'pilotage/config.yaml'));
    assert.equal(configFilePath(undefined, { XDG_CONFIG_HOME: 'relative' }, home), undefined);
    await mkdir(join(home, '.config/pilotage'), { recursive: true });
    await writeFile(join(home, '.config/pilotage/config.yaml'), 'port: 9001\n');
    assert.equal(configFilePath(undefined, {}, home), join(home, '.config/pilotage/config.yaml'));
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
