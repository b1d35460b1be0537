import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';

/**
 * A stand-in OpenTelemetry collector for the bench: answers 200 to every OTLP/HTTP JSON export
 * and counts the spans. In the bench's own process (the exports are batched every 2 s, so its
 * share of the event loop is small). Call `close()`.
 * @returns {Promise<{ url: string, spans: () => number, close: () => Promise<void> }>}
 */
export async function startSpanSink() {
  let spans = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const resource of body.resourceSpans ?? [])
        for (const scope of resource.scopeSpans ?? []) spans += (scope.spans ?? []).length;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    spans: () => spans,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
