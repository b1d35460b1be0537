import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { logPathOf } from './podman.js';

/** What the log server needs to know of a pod. */
export interface LogSource {
  readonly containerName: string | undefined;
  /** its CRI log file, known from its creation (no runtime call per log request, as a kubelet) */
  readonly logPath: string | undefined;
  readonly ended: boolean;
}

/** `2026-12-04T14:38:31.815887158+00:00` (CRI) or RFC 3339 → nanoseconds since the epoch. */
export function toNanos(timestamp: string): bigint {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(timestamp);
  if (!match) throw new Error(`bad timestamp ${timestamp}`);
  const seconds = BigInt(Date.parse(`${match[1]}${match[3]}`)) * 1_000_000n;
  return seconds + BigInt((match[2] ?? '').padEnd(9, '0').slice(0, 9));
}

/** RFC 3339 with nanoseconds in UTC, as the kubelet writes timestamps. */
function rfc3339Nano(nanos: bigint): string {
  const ms = Number(nanos / 1_000_000n);
  const frac = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
}

/**
 * The kubelet's log endpoint, which the API server proxies `pods/{name}/log` to:
 * `GET /containerLogs/{namespace}/{pod}/{container}` with `follow`, `timestamps`, `sinceTime`,
 * `tailLines` and `limitBytes`. Reads the container's CRI log file (stdout and stderr merged in
 * the order written, partial lines joined), as the kubelet does; 400 while the container waits to
 * start, 404 for an unknown pod.
 */
export function startLogServer(
  pki: string,
  port: number,
  find: (namespace: string, pod: string, container: string) => LogSource | undefined,
): Promise<Server> {
  // SIGUSR2 drops every log stream being served, as a lost connection would: the tests use it
  // to check that clients resume their logs without losing or repeating lines
  const open = new Set<ServerResponse>();
  process.on('SIGUSR2', () => {
    for (const res of open) res.destroy();
  });
  const server = createServer(
    { key: readFileSync(`${pki}/apiserver.key`), cert: readFileSync(`${pki}/apiserver.crt`) },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'https://stand-in');
      const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      const source = match ? find(match[1]!, match[2]!, match[3]!) : undefined;
      if (!source) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('pod or container not found\n');
        return;
      }
      if (source.containerName === undefined) {
        res
          .writeHead(400, { 'content-type': 'text/plain' })
          .end(`container "${match![3]}" in pod "${match![2]}" is waiting to start: ContainerCreating\n`);
        return;
      }
      let closed = false;
      open.add(res);
      res.on('close', () => {
        closed = true;
        open.delete(res);
      });
      void streamLog(source, url.searchParams, res, () => closed).catch(() => res.destroy());
    },
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function streamLog(
  source: LogSource,
  params: URLSearchParams,
  res: ServerResponse,
  closed: () => boolean,
): Promise<void> {
  const path = source.logPath ?? (await logPathOf(source.containerName!));
  if (path === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('container is gone\n');
    return;
  }
  const follow = params.get('follow') === 'true';
  const timestamps = params.get('timestamps') === 'true';
  const since = params.get('sinceTime') === null ? undefined : toNanos(params.get('sinceTime')!);
  const tail = params.get('tailLines') === null ? undefined : Number(params.get('tailLines'));
  let budget = params.get('limitBytes') === null ? Infinity : Number(params.get('limitBytes'));
  res.writeHead(200, { 'content-type': 'text/plain' });
  const file = await open(path, 'r').catch(() => undefined);
  if (file === undefined) {
    res.end();
    return;
  }
  let offset = 0;
  let rest = '';
  let partial = '';
  const emit = (lines: { at: bigint; text: string }[]): void => {
    for (const { at, text } of lines) {
      if (since !== undefined && at < since) continue;
      const out = `${timestamps ? `${rfc3339Nano(at)} ` : ''}${text}\n`;
      if (budget <= 0) return;
      res.write(budget >= out.length ? out : out.slice(0, budget));
      budget -= out.length;
    }
  };
  const readMore = async (): Promise<{ at: bigint; text: string }[]> => {
    const lines: { at: bigint; text: string }[] = [];
    for (;;) {
      const buffer = Buffer.alloc(65536);
      const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      rest += buffer.subarray(0, bytesRead).toString('utf8');
    }
    const complete = rest.split('\n');
    rest = complete.pop() ?? '';
    for (const record of complete) {
      const m = /^(\S+) (stdout|stderr) ([PF]) (.*)$/.exec(record);
      if (!m) continue;
      partial += m[4];
      if (m[3] === 'F') {
        lines.push({ at: toNanos(m[1]!), text: partial });
        partial = '';
      }
    }
    return lines;
  };
  try {
    const first = await readMore();
    emit(tail === undefined ? first : first.slice(Math.max(0, first.length - tail)));
    while (follow && !closed() && budget > 0) {
      const ended = source.ended;
      const more = await readMore();
      emit(more);
      if (ended && more.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (partial !== '' && source.ended) emit([{ at: BigInt(Date.now()) * 1_000_000n, text: partial }]);
  } finally {
    await file.close();
    res.end();
  }
}
