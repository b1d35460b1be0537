#!/usr/bin/env node
// Builds the local executor's native spawn addon (packages/engine/native/spawn.c) with node-gyp,
// part of `npm run build`. Optional: without node-gyp, a C compiler or Node's headers, it says so
// in one line and the local executor starts processes through its spawner process instead
// (slower per task; docs/executors.md). Skipped when the addon is newer than its sources.
//   node scripts/build-native.mjs           build when out of date
//   node scripts/build-native.mjs --force   build anyway
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

// binding.gyp sits in native/, not at the package's root, so that npm never runs node-gyp at
// install time on its own (a failure there would fail `npm install` on a machine without cc)
const native = new URL('../packages/engine/native/', import.meta.url).pathname;
const addon = join(native, 'build', 'Release', 'pilotage_spawn.node');
const sources = [join(native, 'spawn.c'), join(native, 'binding.gyp')];

const mtime = (path) => statSync(path).mtimeMs;
const upToDate = existsSync(addon) && sources.every((source) => mtime(source) <= mtime(addon));
if (upToDate && !process.argv.includes('--force')) process.exit(0);

// npm gives its scripts its own node-gyp (and the settings it reads, such as nodedir); run by
// hand, the node-gyp of the npm beside this node, and this node's own headers when it has them
const prefix = dirname(dirname(process.execPath));
const bundled = join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const nodeGyp = process.env['npm_config_node_gyp'] ?? (existsSync(bundled) ? bundled : undefined);
const args = ['rebuild'];
if (process.env['npm_config_nodedir'] === undefined && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const command = nodeGyp ? [process.execPath, [nodeGyp, ...args]] : ['node-gyp', args];
const started = Date.now();
const result = spawnSync(command[0], command[1], { cwd: native, encoding: 'utf8' });
if (result.status === 0) {
  console.log(`native spawn addon built (${Date.now() - started} ms): ${addon}`);
} else {
  const why = result.error ? result.error.message : `node-gyp exited with ${result.status}`;
  const tail = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-12).join('\n');
  console.warn(
    `note: the native spawn addon was not built (${why}); local components start through the spawner process instead.` +
      (tail ? `\n${tail}` : ''),
  );
}
