#!/usr/bin/env node
// build-node: a pretend build. Writes build/<repo>-<ref>.tar.txt into the run's workspace, so the
// next stage's actions can read it, and reports its progress with TASK_STATUS.
// The artifact's content depends only on the inputs: the same inputs give the same sha256.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runComponent } from '@pilotage/sdk';

const STEPS = ['resolving dependencies', 'compiling', 'linking', 'packaging'];

await runComponent(async (ctx) => {
  const { repo, ref = 'main', stepDelayMs = 50 } = ctx.data;
  if (typeof repo !== 'string' || repo === '') throw new Error('input "repo" is required');
  const lines = [`pretend build of ${repo} at ${ref}`];
  for (const [index, step] of STEPS.entries()) {
    await ctx.status({ message: step, progress: index / STEPS.length });
    await sleep(stepDelayMs);
    lines.push(`${index + 1}. ${step}: ok`);
  }
  const content = `${lines.join('\n')}\n`;
  const artifact = `build/${slug(repo)}-${slug(ref)}.tar.txt`;
  await mkdir(join(ctx.workspace, 'build'), { recursive: true });
  await writeFile(join(ctx.workspace, artifact), content);
  const sha256 = createHash('sha256').update(content).digest('hex');
  const size = Buffer.byteLength(content);
  await ctx.status({ message: `wrote ${artifact}`, progress: 1 });
  return { artifact, sha256, size };
});

/** `https://example.com/pilotage.git` → `pilotage`: a safe file name part. */
function slug(text) {
  const parts = text.replace(/\.git$/, '').split(/[/:]/);
  const last = parts.filter(Boolean).at(-1) ?? 'repo';
  return last.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '') || 'repo';
}
