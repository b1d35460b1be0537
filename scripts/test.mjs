#!/usr/bin/env node
// Runs every test with Node's own runner (TypeScript through tsx).
//   node scripts/test.mjs            all tests
//   node scripts/test.mjs --unit     only tests next to the source (no services)
//   node scripts/test.mjs PATH...    only the files or folders given
// The web UI's unit tests (packages/web/src, vitest in happy-dom) run first, when the run covers
// them; a vitest failure fails the run. Node's runner comes last, so its summary ends the output.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const paths = args.filter((a) => !a.startsWith('--'));

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const full = join(dir, name);
    // vitest runs these (below), not Node's runner
    if (full === webSources) continue;
    if (statSync(full).isDirectory()) walk(full, out);
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const webDir = join(root, 'packages', 'web');
const webSources = join(webDir, 'src');
const roots = paths.length > 0 ? paths.map((p) => join(process.cwd(), p)) : [join(root, 'packages')];
const coversWeb = roots.some((r) => webSources.startsWith(r) || r.startsWith(webSources));
if (coversWeb) {
  const vitest = spawnSync(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run'], {
    cwd: webDir,
    stdio: 'inherit',
    env: { ...process.env, ...(process.stdout.isTTY ? {} : { NO_COLOR: '1' }) },
  });
  if (vitest.status !== 0) {
    console.error(`the web UI's unit tests (vitest) failed with ${vitest.status ?? vitest.signal}`);
    process.exit(1);
  }
}
let files = roots
  .flatMap((p) => (statSync(p).isDirectory() ? walk(p, []) : [p]))
  .filter((f) => !f.startsWith(webSources));
if (unitOnly) files = files.filter((f) => f.includes('/src/'));
files.sort();
if (files.length === 0) {
  if (coversWeb) process.exit(0);
  console.error('no test files found');
  process.exit(1);
}
// Kubernetes suites start the test cluster when it is not running (scripts/test-cluster.sh); a
// cluster this run started is stopped at its end, one that was already running is left running.
const clusterScript = join(root, 'scripts', 'test-cluster.sh');
const clusterUp = () => spawnSync(clusterScript, ['status'], { stdio: 'ignore' }).status === 0;
const clusterWasUp = clusterUp();
const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? '2'}`,
    ...files.map((f) => relative(process.cwd(), f)),
  ],
  { stdio: 'inherit' },
);
child.on('exit', (code, signal) => {
  if (!clusterWasUp && clusterUp()) spawnSync(clusterScript, ['down'], { stdio: 'inherit' });
  process.exit(code ?? (signal ? 1 : 0));
});
