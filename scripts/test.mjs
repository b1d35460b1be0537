#!/usr/bin/env node
// Runs every test with Node's own runner (TypeScript through tsx).
//   node scripts/test.mjs            all tests
//   node scripts/test.mjs --unit     only tests next to the source (no services)
//   node scripts/test.mjs PATH...    only the files or folders given
// The web UI's unit tests (packages/web/src, vitest in happy-dom) run first, when the run covers
// them; a vitest failure fails the run. Node's runner comes last, so its summary ends the output;
// when something failed, each failure is listed after it, then a line `N passed, N failed`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
// Node's usual report (spec on a terminal, TAP otherwise), and the failures kept apart for the end
const failuresDir = mkdtempSync(join(tmpdir(), 'pilotage-test-failures-'));
const failuresFile = join(failuresDir, 'failures.json');
const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? '2'}`,
    `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`,
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'scripts', 'test-failures-reporter.mjs')}`,
    `--test-reporter-destination=${failuresFile}`,
    ...files.map((f) => relative(process.cwd(), f)),
  ],
  { stdio: 'inherit' },
);
child.on('exit', (code, signal) => {
  if (!clusterWasUp && clusterUp()) spawnSync(clusterScript, ['down'], { stdio: 'inherit' });
  printFailures();
  process.exit(code ?? (signal ? 1 : 0));
});

/**
 * After Node's summary, when something failed: each failure with its file, its test and its error,
 * and what the file's process printed last, then the count line (a CI log is read from its end).
 */
function printFailures() {
  let report;
  try {
    report = JSON.parse(readFileSync(failuresFile, 'utf8'));
  } catch {
    return; // the runner ended before its reporters did: its own output says why
  } finally {
    rmSync(failuresDir, { recursive: true, force: true });
  }
  if (report.failures.length === 0 && !(report.counts.fail > 0)) return;
  const lines = [`\nFailures (${report.failures.length}):`];
  for (const { file, test, error, printed } of report.failures) {
    const name = relative(root, file);
    lines.push(
      '',
      `✗ ${test === file ? `${name} (the file itself: its process failed outside its tests)` : `${name} > ${test}`}`,
    );
    lines.push(...error.split('\n').map((l) => `    ${l}`));
    if (printed.length > 0) lines.push(`  what ${name} printed last:`, ...printed.map((l) => `    | ${l}`));
  }
  for (const note of report.notes) lines.push(`note: ${note}`);
  lines.push('', `${report.counts.pass ?? 0} passed, ${report.counts.fail ?? report.failures.length} failed`);
  console.log(lines.join('\n'));
}
