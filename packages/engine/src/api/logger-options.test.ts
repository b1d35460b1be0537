import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { loggerOptions, redactUrl, scrubLogLine } from './logger-options.js';

const API_TOKEN = `plt_${'A1b2-C3_d4'.repeat(4)}xyz`;

test('redactUrl hides callback tokens and secret query values, keeps the rest', () => {
  assert.equal(
    redactUrl('/v1/callbacks/abcDEF123/task-status?x=1&token=t0k&sig=s'),
    '/v1/callbacks/[redacted]/task-status?x=1&token=[redacted]&sig=[redacted]',
  );
  assert.equal(redactUrl('/v1/runs?state=queued'), '/v1/runs?state=queued');
});

test('scrubLogLine keeps the JSON valid while it redacts tokens and masks secrets', () => {
  const line = `${JSON.stringify({
    msg: `GET http://h/v1/callbacks/abcDEF123 failed: ${API_TOKEN} and "hunter22"`,
    url: '/x?access_token=zz&y=2',
    next: 'kept',
  })}\n`;
  const out = scrubLogLine(line, (text) => text.replaceAll('hunter22', '***'));
  const parsed = JSON.parse(out) as Record<string, string>;
  assert.equal(parsed.msg, 'GET http://h/v1/callbacks/[redacted] failed: plt_[redacted] and "***"');
  assert.equal(parsed.url, '/x?access_token=[redacted]&y=2');
  assert.equal(parsed.next, 'kept');
});

test('a pino logger from the options writes scrubbed lines to the stream and drops raw request bytes', () => {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  const options = loggerOptions({ level: 'trace', stream, mask: (t) => t.replaceAll('s3cret', '***') });
  const log = pino(options, options.stream);
  const parseError = Object.assign(new Error('Parse Error: Invalid header token'), {
    rawPacket: Buffer.from(`GET / HTTP/1.1\r\nAuthorization: Bearer ${API_TOKEN}\r\n`),
  });
  log.trace({ err: parseError }, 'client error');
  log.info(`the value s3cret reached ${API_TOKEN}`);
  const text = chunks.join('');
  const lines = text.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.doesNotMatch(text, /rawPacket|s3cret|A1b2/);
  assert.match(text, /Invalid header token/);
  assert.match(text, /the value \*\*\* reached plt_\[redacted\]/);
});
