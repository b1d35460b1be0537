#!/usr/bin/env node
// `pilotage serve` with the bench's fake executor as its default executor, for
// `npm run bench:replicas` only: the same server (`startServer`, as `pilotage serve` calls it) on
// the configuration of the environment (PILOTAGE_DB, PILOTAGE_DATA_DIR…), except that every
// action runs on an executor that exits 0 at once, so that what is measured is the replicas'
// coordination alone. Not part of any package: a user cannot reach the fake executor.
//   PILOTAGE_DB=postgres://… node bench/replicas-fake-serve.mjs serve --port 0
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { execWithServeV8Flags } from '../packages/engine/dist/cli/serve-v8-flags.js';

// the V8 flags `pilotage serve` runs with (src/cli/serve-v8-flags.ts): first, since it starts
// this process again; the server's modules are loaded after it, once
await execWithServeV8Flags((message) => console.error(message));
const { configFrom } = await import('../packages/engine/dist/cli/runtime-flags.js');
const { startServer } = await import('../packages/engine/dist/serve.js');
const { fakeExecutor } = await import('./fake-executor.mjs');

// BENCH_CPU_PROF=<dir>: a CPU profile of this replica, written to <dir> when it stops (node's
// --cpu-prof is refused in NODE_OPTIONS, and the bench starts this script through a helper)
const profileDir = process.env['BENCH_CPU_PROF'];
const session = profileDir === undefined ? undefined : new Session();
if (session !== undefined) {
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
}
const writeProfile = () =>
  new Promise((resolve) => {
    if (session === undefined) return resolve();
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(join(profileDir, `replica-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
      resolve();
    });
  });

const at = process.argv.indexOf('--port');
const port = at < 0 ? undefined : process.argv[at + 1];
// `executor: fake` is not a value the config accepts (users cannot choose it): set after loading
const config = Object.freeze({ ...configFrom({ port }), executor: 'fake' });
const server = await startServer(config, { executors: [fakeExecutor()] });
let stopping = false;
const stop = () => {
  if (stopping) process.exit(130);
  stopping = true;
  server.close().then(
    () => writeProfile().then(() => process.exit(0)),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
