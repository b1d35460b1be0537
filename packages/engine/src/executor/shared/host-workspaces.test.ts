import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId } from '../../domain/ids.js';
import { createHostWorkspaces } from './host-workspaces.js';

async function withRoot(body: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'pilotage-ws-'));
  try {
    await body(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('copyFrom: a new workspace starts as a copy of the kept one (modes, links, nested folders), which stays as it was', () =>
  withRoot(async (root) => {
    const workspaces = createHostWorkspaces(root);
    const [failed, rerun] = [newId(), newId()];
    const old = await workspaces.prepare(failed);
    await mkdir(join(old.hostDir!, 'build', 'bin'), { recursive: true });
    await writeFile(join(old.hostDir!, 'build', 'bin', 'tool'), '#!/bin/sh\necho hi\n');
    await chmod(join(old.hostDir!, 'build', 'bin', 'tool'), 0o755);
    await symlink('build/bin/tool', join(old.hostDir!, 'link'));
    await workspaces.release(failed, true);

    const made = await workspaces.prepare(rerun, failed);
    assert.equal(made.copiedFrom, failed);
    assert.equal(made.hostDir, join(root, rerun));
    assert.equal(await readFile(join(made.hostDir, 'build', 'bin', 'tool'), 'utf8'), '#!/bin/sh\necho hi\n');
    assert.equal((await stat(join(made.hostDir, 'build', 'bin', 'tool'))).mode & 0o777, 0o755);
    assert.equal(await readlink(join(made.hostDir, 'link')), 'build/bin/tool');

    await writeFile(join(made.hostDir, 'build', 'new'), 'x');
    assert.deepEqual((await readdir(join(old.hostDir!, 'build'))).sort(), ['bin']);
    // no copy folder left behind
    assert.deepEqual((await readdir(root)).sort(), [failed, rerun].sort());
  }));

test('copyFrom: an existing workspace is kept as it is (a resumed run), and a missing source gives an empty one', () =>
  withRoot(async (root) => {
    const workspaces = createHostWorkspaces(root);
    const [failed, rerun, other] = [newId(), newId(), newId()];
    await writeFile(join((await workspaces.prepare(failed)).hostDir!, 'a'), 'from the failed run');
    await writeFile(join((await workspaces.prepare(rerun, failed)).hostDir!, 'a'), 'written by the rerun');
    const again = await workspaces.prepare(rerun, failed);
    assert.equal(again.copiedFrom, undefined);
    assert.equal(await readFile(join(again.hostDir!, 'a'), 'utf8'), 'written by the rerun');

    const empty = await workspaces.prepare(other, newId());
    assert.equal(empty.copiedFrom, undefined);
    assert.deepEqual(await readdir(empty.hostDir!), []);
  }));

test('copyFrom: concurrent first preparations (local and docker share the folders) end with one copy', () =>
  withRoot(async (root) => {
    const workspaces = createHostWorkspaces(root);
    const [failed, rerun] = [newId(), newId()];
    const dir = (await workspaces.prepare(failed)).hostDir!;
    for (let i = 0; i < 50; i++) await writeFile(join(dir, `f${i}`), String(i));
    const made = await Promise.all([workspaces.prepare(rerun, failed), workspaces.prepare(rerun, failed)]);
    assert.equal(made.filter((w) => w.copiedFrom === failed).length >= 1, true);
    assert.equal((await readdir(join(root, rerun))).length, 50);
    assert.deepEqual((await readdir(root)).sort(), [failed, rerun].sort());
  }));

test('release removes a copy a crash left half done, and a failed copy names both runs', () =>
  withRoot(async (root) => {
    const workspaces = createHostWorkspaces(root);
    const [failed, rerun] = [newId(), newId()];
    await mkdir(join(root, `.${rerun}.copying-1-abcd`, 'x'), { recursive: true });
    await workspaces.release(rerun, false);
    assert.deepEqual(await readdir(root), []);

    // a named pipe cannot be copied (fs.cp refuses it): the copy fails
    const dir = (await workspaces.prepare(failed)).hostDir!;
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    await assert.rejects(workspaces.prepare(rerun, failed), (error: Error) => {
      assert.match(error.message, new RegExp(`workspace of run ${failed} .* for run ${rerun}`));
      return true;
    });
    assert.deepEqual(await readdir(root), [failed]);
  }));
