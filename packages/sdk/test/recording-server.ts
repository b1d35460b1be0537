import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the recording server received. */
export interface RecordedCall {
  readonly method: string;
  /** last path segment: `component-start` … `component-stop`, or `data` */
  readonly step: string;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

/** A scripted answer: status and JSON body. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * A real HTTP server playing the engine's callback API for one task run, under
 * `/v1/callbacks/<token>/<step>`. It records every call and answers `200 {"ok":true}`, the event
 * data for `GET …/data`, or what `answers[step]` scripts (consumed one per call, then the default).
 */
export interface RecordingServer extends AsyncDisposable {
  readonly calls: RecordedCall[];
  readonly port: number;
  /** the contract's variables pointing at this server; `CO_DATA` only if `inlineData` */
  env(options?: { inlineData?: boolean }): Record<string, string>;
  close(): Promise<void>;
}

export const TOKEN = 'tok_0123456789abcdef0123456789abcdef';

/** Start a recording server on `port` (0: any free port) serving `data`. */
export async function startRecordingServer(
  data: unknown,
  answers: Record<string, Answer[]> = {},
  port = 0,
): Promise<RecordingServer> {
  const calls: RecordedCall[] = [];
  const server = createServer((req, res) => {
    void handle(req, res);
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const step = (req.url ?? '').split('/').at(-1) ?? '';
    const expectedPrefix = `/v1/callbacks/${TOKEN}/`;
    calls.push({
      method: req.method ?? '',
      step,
      contentType: req.headers['content-type'],
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
    });
    const scripted = answers[step]?.shift();
    let answer: Answer = scripted ?? { status: 200, body: step === 'data' ? data : { ok: true } };
    if (!(req.url ?? '').startsWith(expectedPrefix)) answer = { status: 404, body: { error: 'unknown token' } };
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${actualPort}/v1/callbacks/${TOKEN}`;
  const close = (): Promise<void> => closeServer(server);
  return {
    calls,
    port: actualPort,
    env(options = {}) {
      return {
        ...(options.inlineData ? { CO_DATA: JSON.stringify(data) } : {}),
        CO_DATA_URL: `${base}/data`,
        CO_COMPONENT_START: `${base}/component-start`,
        CO_TASK_START: `${base}/task-start`,
        CO_TASK_STATUS: `${base}/task-status`,
        CO_TASK_RESULT: `${base}/task-result`,
        CO_COMPONENT_STOP: `${base}/component-stop`,
        CO_RUN_ID: '01RUN',
        CO_TASK_RUN_ID: '01TASKRUN',
        CO_WORKFLOW: 'wf',
        CO_STAGE: 'build',
        CO_ACTION: 'compile',
        CO_ATTEMPT: '2',
        CO_WORKSPACE: '/tmp/ws',
        CO_SERVER: `http://127.0.0.1:${actualPort}`,
      };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A loopback port that was free a moment ago and has nothing listening on it now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
