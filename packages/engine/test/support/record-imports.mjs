// Preloaded with `node --import` (see loaded-modules.ts): records every module the process loads
// into the file named by PILOTAGE_TEST_IMPORTS_FILE when it exits. ES modules are seen by a
// resolve hook (specifiers `node:http` and friends included); CommonJS ones through the shared
// require cache, which holds every CommonJS file loaded, by `import` or by `require`.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const file = process.env.PILOTAGE_TEST_IMPORTS_FILE;
if (file) {
  const seen = new Set();
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (url) => seen.add(url));
  port1.unref();
  register('./record-imports-hooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => {
    for (const path of Object.keys(cache)) seen.add(path);
    appendFileSync(file, [...seen].join('\n') + '\n');
  });
}
