import { KeepAliveConnection, type HttpAnswer } from './keep-alive-connection.js';

export type { HttpAnswer };

/** One kept-alive connection per origin (`http:` only), shared by every call of this process. */
const connections = new Map<string, KeepAliveConnection>();

/**
 * One HTTP request. `http:` URLs (the engine's loopback callback server, the usual case) go over
 * one kept-alive connection per origin (`KeepAliveConnection`, plain `node:net`): a component
 * lives for one task and makes five tiny calls, and neither global `fetch` (undici: ~100 ms to load
 * and as much again before the process exits) nor `node:http` (its client and `node:https` load
 * in ~8 ms of CPU here, each call builds an agent request) is cheap at that scale
 * (bench/README.md, "The five-callback contract"). `https:` URLs use `node:https`, loaded only
 * then. Rejects on network errors and after `timeoutMs`.
 */
export async function httpCall(
  url: string,
  method: 'GET' | 'POST',
  body: string | undefined,
  timeoutMs: number,
): Promise<HttpAnswer> {
  const target = new URL(url);
  if (target.protocol === 'https:') return httpsCall(target, method, body, timeoutMs);
  if (target.protocol !== 'http:') throw new TypeError(`unsupported protocol ${target.protocol} (http: or https:)`);
  let connection = connections.get(target.origin);
  if (connection === undefined) {
    connection = new KeepAliveConnection(target.hostname.replace(/^\[|\]$/g, ''), Number(target.port || 80));
    connections.set(target.origin, connection);
  }
  return connection.request(method, `${target.pathname}${target.search}`, target.host, body, timeoutMs);
}

async function httpsCall(target: URL, method: 'GET' | 'POST', body: string | undefined, timeoutMs: number) {
  const { request } = await import('node:https');
  return new Promise<HttpAnswer>((resolve, reject) => {
    const headers: Record<string, string | number> = { accept: 'application/json', connection: 'close' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = request(target, { method, headers, agent: false, timeout: timeoutMs }, (res) => {
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
