import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** An HTTP answer: status and body text. */
export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
}

/**
 * One HTTP request with `node:http(s)`, no keep-alive. Why not global `fetch`: in a component
 * that lives for one task, loading undici costs about 100 ms and delays the process's exit by
 * as much again (bench/README.md); the contract is five tiny requests. Rejects on network
 * errors and after `timeoutMs`.
 */
export function httpCall(
  url: string,
  method: 'GET' | 'POST',
  body: string | undefined,
  timeoutMs: number,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string | number> = { accept: 'application/json', connection: 'close' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = send(target, { method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
