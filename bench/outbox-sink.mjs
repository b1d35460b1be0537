#!/usr/bin/env node
// The HTTP sink of bench/outbox.mjs, in its own process so that it does not share the engine's
// event loop: answers 200 to every POST at once and remembers when each event (by its CloudEvents
// id) first arrived. `GET /arrivals` returns them as JSON `{id: epoch ms}`. Prints its URL on
// stdout once listening; exits when stdin closes.
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';

const arrivals = {};
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/arrivals') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(arrivals));
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    // binary mode names the event in a header, structured mode in the JSON envelope
    const id = req.headers['ce-id'] ?? JSON.parse(Buffer.concat(chunks).toString('utf8')).id;
    arrivals[id] ??= Date.now();
    res.writeHead(200).end();
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port}\n`);
});
process.stdin.on('end', () => {
  server.closeAllConnections();
  server.close();
});
process.stdin.resume();
