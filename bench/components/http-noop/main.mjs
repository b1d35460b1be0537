#!/usr/bin/env node
// bench-http-noop: COMPONENT_START, TASK_START, TASK_RESULT, COMPONENT_STOP with node:http over
// one keep-alive connection (the event data is read from CO_DATA, so no GET). Without the CO_*
// variables it makes no call at all, which is what the bare loop measures.
import { Buffer } from 'node:buffer';
import { Agent, request } from 'node:http';

const steps = [
  ['CO_COMPONENT_START', {}],
  ['CO_TASK_START', {}],
  ['CO_TASK_RESULT', { status: 'success', output: { ok: true } }],
  ['CO_COMPONENT_STOP', {}],
];

if (process.env['CO_COMPONENT_START'] !== undefined) {
  JSON.parse(process.env['CO_DATA'] ?? '{}');
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (const [name, body] of steps) await post(agent, process.env[name] ?? '', body);
  } finally {
    agent.destroy();
  }
}

/** POST `body` as JSON; rejects unless the answer is 2xx. */
function post(agent, url, body) {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        res.resume();
        res.once('end', () =>
          res.statusCode >= 200 && res.statusCode < 300 ? resolve() : reject(new Error(`${url}: ${res.statusCode}`)),
        );
      },
    );
    req.once('error', reject);
    req.end(text);
  });
}
