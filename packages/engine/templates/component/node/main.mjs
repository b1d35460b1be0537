#!/usr/bin/env node
// TEMPLATE_NAME: a Pilotage component in Node, with no dependency: the callback contract over
// node:http. Run by hand (no CO_* variables), it prints its greeting and, on stderr, the calls
// it would make. (@pilotage/sdk's runComponent does the same with retries and more.)
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Send `body` (JSON) to `url`; resolves with the answer's text, rejects unless it is 2xx. */
function send(method, url, body) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  const headers = payload === undefined ? {} : { 'content-type': 'application/json' };
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        if (ok) resolve(text);
        else reject(new Error(`${method} ${new URL(url).pathname.split('/').pop()}: HTTP ${res.statusCode} ${text}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error('the engine did not answer in time')));
    req.on('error', reject);
    req.end(payload);
  });
}

/** POST a callback step (`CO_TASK_START`…); only logged when run by hand. */
async function call(variable, body = {}) {
  const url = process.env[variable];
  if (!url) {
    process.stderr.write(`[dev] ${variable} ${JSON.stringify(body)}\n`);
    return;
  }
  await send('POST', url, body);
}

/** The event data: CO_DATA, else (over 64 KiB) CO_DATA_URL, else argv[2] when run by hand. */
async function eventData() {
  if (process.env.CO_DATA !== undefined) return JSON.parse(process.env.CO_DATA);
  if (process.env.CO_DATA_URL) return JSON.parse(await send('GET', process.env.CO_DATA_URL));
  return JSON.parse(process.argv[2] ?? '{}');
}

await call('CO_COMPONENT_START');
await call('CO_TASK_START');
let exitCode = 0;
try {
  const data = await eventData();
  const name = typeof data.name === 'string' ? data.name : 'world';
  await call('CO_TASK_STATUS', { message: 'composing the greeting', progress: 0.5 });
  const greeting = `Hello, ${name}!`;
  console.log(greeting);
  await call('CO_TASK_RESULT', { status: 'success', output: { greeting } });
} catch (error) {
  // Any error is this task's failure, reported with its reason.
  console.error(error);
  exitCode = 1;
  await call('CO_TASK_RESULT', { status: 'failure', message: String(error?.message ?? error) }).catch(() => {});
}
await call('CO_COMPONENT_STOP');
process.exitCode = exitCode;
