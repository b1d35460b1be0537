import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../domain/errors.js';
import { tarFiles } from './tar-files.js';

const run = promisify(execFile);

test('the archive is extracted by the system tar with directories, contents and modes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pilotage-tar-'));
  try {
    const long = `${'d'.repeat(80)}/${'e'.repeat(60)}/file-with-a-long-name-${'f'.repeat(40)}.txt`;
    const files = {
      'app.conf': 'level=debug\n',
      'nested/deeper/data.json': '{"é":"ü"}',
      'empty.txt': '',
      [long]: 'long path',
      'exactly-512.bin': 'x'.repeat(512),
    };
    const archive = tarFiles(files, { mtimeSec: 1_700_000_000 });
    assert.equal(archive.length % 512, 0);
    await writeFile(join(dir, 'a.tar'), archive);
    const listing = (await run('tar', ['-tvf', join(dir, 'a.tar')])).stdout;
    assert.match(listing, /drwxr-xr-x root\/root +0 .* nested\/\n/);
    await run('tar', ['-xf', join(dir, 'a.tar'), '-C', dir]);
    for (const [path, content] of Object.entries(files)) {
      assert.equal(await readFile(join(dir, path), 'utf8'), content, path);
    }
    const info = await stat(join(dir, 'app.conf'));
    assert.equal(info.mode & 0o777, 0o644);
    assert.equal(Math.floor(info.mtimeMs / 1000), 1_700_000_000);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

for (const bad of ['', '/etc/passwd', '../escape', 'a/../b', 'a//b', './a', 'x'.repeat(101)]) {
  test(`"${bad.slice(0, 20)}" is refused`, () => {
    assert.throws(() => tarFiles({ [bad]: 'x' }), ValidationError);
  });
}
