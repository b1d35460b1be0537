#!/usr/bin/env node
// notify-endpoint: a component that is sent its event data. It listens on CO_ENDPOINT_PORT (set by
// executors that choose the port, such as the local one) or else its declared port 8080, calls
// COMPONENT_START once listening, waits for the engine's POST /event, then runs the task:
// TASK_START, TASK_STATUS, TASK_RESULT with output {received: <data>}, COMPONENT_STOP.
// Run by hand (no CO_* variables) it waits for one POST and prints what it would report.
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

const PATH = '/event';
const MAX_BODY_BYTES = 1024 * 1024;
const port = Number(process.env.CO_ENDPOINT_PORT ?? 8080);
// Wait this long for the event before giving up, so a lost POST cannot keep us forever.
const waitMs = Number(process.env.NOTIFY_WAIT_SECONDS ?? 300) * 1000;

/** POST `body` to the callback URL of `step`, retrying network errors; logs it when run by hand. */
async function call(step, body = {}) {
  const url = process.env[`CO_${step}`];
  if (!url) {
    console.error(`[pilotage dev] ${step} ${JSON.stringify(body)}`);
    return;
  }
  for (let attempt = 0; ; attempt += 1) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      if (response.ok) return;
      if (response.status < 500 || attempt === 3)
        throw new Error(`${step} refused with HTTP ${response.status}: ${text}`);
    } catch (err) {
      if (attempt === 3 || String(err.message).includes('refused with HTTP')) throw err;
    }
    await sleep(100 * 2 ** attempt);
  }
}

/**
 * Bind to loopback when the engine is on this host (its URL is a loopback one), so a laptop run
 * does not open a port to the network; bind everywhere in a container or pod.
 */
function bindHost() {
  if (process.env.CO_ENDPOINT_HOST) return process.env.CO_ENDPOINT_HOST;
  try {
    const host = new URL(process.env.CO_SERVER ?? '').hostname;
    if (host === '127.0.0.1' || host === 'localhost' || host === '[::1]') return '127.0.0.1';
  } catch {
    // no usable CO_SERVER: fall through
  }
  return '0.0.0.0';
}

let received;
const event = new Promise((resolve, reject) => {
  received = { resolve, reject };
});

const server = createServer((req, res) => {
  const answer = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.url !== PATH) return answer(404, { error: `only ${PATH} is served` });
  if (req.method !== 'POST') return answer(405, { error: 'POST the event data as JSON' });
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      answer(413, { error: `event data larger than ${MAX_BODY_BYTES} bytes` });
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > MAX_BODY_BYTES) return;
    let data;
    try {
      data = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      return answer(400, { error: `the event data is not JSON: ${err.message}` });
    }
    answer(200, { ok: true });
    received.resolve(data);
  });
});

async function main() {
  const host = bindHost();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  console.log(`listening on http://${host}:${port}${PATH}`);
  await call('COMPONENT_START');

  const timer = setTimeout(
    () => received.reject(new Error(`no event data was POSTed to ${PATH} within ${waitMs / 1000}s`)),
    waitMs,
  );
  let data;
  try {
    data = await event;
  } finally {
    clearTimeout(timer);
    server.close();
  }
  console.log(`received ${JSON.stringify(data)}`);
  await call('TASK_START');
  await call('TASK_STATUS', { message: 'event received', progress: 1 });
  const output = { received: data };
  const valid = typeof data === 'object' && data !== null && !Array.isArray(data);
  await call(
    'TASK_RESULT',
    valid ? { status: 'success', output } : { status: 'failure', message: 'the event data is not a JSON object' },
  );
  await call('COMPONENT_STOP');
  return valid ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`notify-endpoint: ${err.message}`);
    server.close();
    process.exitCode = 1;
  },
);
