#!/usr/bin/env node
// The limit for the callback benchmark: Fastify with the same body handling as the callback
// routes (every content type read as text, 1 MiB limit, no logging) and a route that does
// nothing but answer {ok:true}. Listens on 127.0.0.1 and a free port, prints `listening <url>`.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_request, body, done) =>
  done(null, body),
);
app.post(
  '/v1/callbacks/:token/:step',
  {
    schema: {
      params: {
        type: 'object',
        required: ['token', 'step'],
        properties: { token: { type: 'string' }, step: { type: 'string' } },
      },
      response: { 200: { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean' } } } },
    },
  },
  async () => ({ ok: true }),
);
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${url}\n`);
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
