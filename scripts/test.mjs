#!/usr/bin/env node
// Runs every test with Node's own runner (TypeScript through tsx).
//   node scripts/test.mjs            all tests
//   node scripts/test.mjs --unit     only tests next to the source (no services)
//   node scripts/test.mjs PATH...    only the files or folders given
import { spawn } from 'node:child_process';
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
    if (statSync(full).isDirectory()) walk(full, out);
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const roots = paths.length > 0 ? paths.map((p) => join(process.cwd(), p)) : [join(root, 'packages')];
let files = roots.flatMap((p) => (statSync(p).isDirectory() ? walk(p, []) : [p]));
if (unitOnly) files = files.filter((f) => f.includes('/src/'));
files.sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
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
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
