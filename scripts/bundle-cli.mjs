#!/usr/bin/env node
// Part of `npm run build`, after tsc and bundle-dependencies.mjs: bundles the `pilotage` command
// (dist/cli/main.js and the ~230 modules of dist/ it reaches) into packages/engine/dist/bundle/,
// which bin/pilotage.js runs. Loading the same code from a few files instead of one file each cut
// a one-action `pilotage run` by ~60 ms (~17%, bench/README.md "Session 14"): Node 20 opens,
// reads, resolves and links every ES module on its own.
//
// What a command does not use stays out of what it loads: each `import()` of dist/ is a chunk
// loaded when called, as its module was (test/startup.test.ts checks the graph on dist/cli/main.js,
// and the bundle's own loads). Packages stay imports of node_modules (their own files, native
// addons), and so does dist/vendor/cel-js.cjs, which src/plan/on-first-use.ts requires by a path
// relative to itself: dist/bundle/ is as deep in the package as dist/plan/. The worker threads'
// modules are entries of their own beside the chunks (src/worker-thread.ts starts `./<name>.js`
// beside the module that asks), and the package's folders (native/, schemas/, templates/) are
// found from any depth (src/package-folder.ts). dist/ itself is left as tsc wrote it: the
// package's library entry (dist/index.js) and the tests' view of single modules.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const dist = fileURLToPath(new URL('../packages/engine/dist/', import.meta.url));
const BUNDLE_DIR = join(dist, 'bundle');

/** The bundle's entries: the command, and the modules worker threads run. */
const ENTRIES = {
  pilotage: join(dist, 'cli/main.js'),
  'wal-checkpoint-thread': join(dist, 'store/sqlite/wal-checkpoint-thread.js'),
  'compile-worker-thread': join(dist, 'service/compile-worker-thread.js'),
};

rmSync(BUNDLE_DIR, { recursive: true, force: true });
const result = await build({
  entryPoints: ENTRIES,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: BUNDLE_DIR,
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  // node_modules stay where they are; so do native addons and the CommonJS CEL bundle
  packages: 'external',
  external: ['*.node', '*.cjs'],
  // readable stack traces: names and lines kept (comments go)
  minify: false,
  metafile: true,
  logLevel: 'warning',
});
const files = Object.keys(result.metafile.outputs).length;
console.log(`bundled the pilotage command into dist/bundle (${files} files)`);
