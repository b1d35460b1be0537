import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI_BUILT, runCli } from './support/cli.js';
import { startServe, stopServe, waitRunEnded, type ServeProcess } from './support/serve-process.js';

/**
 * Issue 9, item 2: a secret sent as a run's input (as is, base64, URL-encoded, and a multi-line
 * secret) reaches the component unmasked, and appears nowhere else: not in the store file (the
 * database and its WAL), in any API answer, in the live stream, in the CLI's output, in the
 * server's log, nor in the CDEvents.
 */
const TOKEN = `Tok3n/with spaces&sym=bols+${randomBytes(6).toString('hex')}`;
const CERT = [
  '-----BEGIN TEST KEY-----',
  `MIIEow${randomBytes(12).toString('base64')}`,
  `qO5mS8${randomBytes(12).toString('base64')}`,
  '-----END TEST KEY-----',
].join('\n');
const INPUTS = {
  plain: TOKEN,
  b64: Buffer.from(TOKEN).toString('base64'),
  url: encodeURIComponent(TOKEN),
  multi: CERT,
};
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Every text that would give a secret away, by name. */
const FORBIDDEN: Record<string, string> = {
  token: TOKEN,
  'token, base64': Buffer.from(TOKEN).toString('base64'),
  'token, base64url': Buffer.from(TOKEN).toString('base64url'),
  'token, URL-encoded': encodeURIComponent(TOKEN),
  'token, form-encoded': encodeURIComponent(TOKEN).replace(/%20/g, '+'),
  'token, JSON-escaped': JSON.stringify(TOKEN).slice(1, -1),
  cert: CERT,
  'cert, JSON-escaped': JSON.stringify(CERT).slice(1, -1),
  ...Object.fromEntries(
    CERT.split('\n')
      .slice(1, 3)
      .map((line, i) => [`cert line ${i + 2}`, line]),
  ),
};

function assertClean(what: string, text: string | Buffer): void {
  const haystack = Buffer.isBuffer(text) ? text : Buffer.from(text);
  for (const [name, needle] of Object.entries(FORBIDDEN)) {
    assert.equal(haystack.includes(Buffer.from(needle)), false, `${what} holds the ${name}`);
  }
}

const WORKFLOW = `apiVersion: pilotage.dev/v1
kind: Workflow
name: secret-inputs
inputs:
  type: object
  required: [plain, b64, url, multi]
  properties: { plain: { type: string }, b64: { type: string }, url: { type: string }, multi: { type: string } }
env:
  WANT: "${sha(TOKEN)} ${sha(INPUTS.b64)} ${sha(INPUTS.url)} ${sha(CERT)}"
stages:
  - name: s
    actions:
      - name: echo
        with: { plain: "\${{ inputs.plain }}", b64: "\${{ inputs.b64 }}", url: "\${{ inputs.url }}", multi: "\${{ inputs.multi }}" }
        run: |
          sum() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
          got="$(sum "$CO_INPUT_PLAIN") $(sum "$CO_INPUT_B64") $(sum "$CO_INPUT_URL") $(sum "$CO_INPUT_MULTI")"
          [ "$got" = "$WANT" ] || { echo "the component did not get the inputs as sent"; exit 1; }
          echo "plain=$CO_INPUT_PLAIN b64=$CO_INPUT_B64 url=$CO_INPUT_URL"
          echo "$CO_INPUT_MULTI"
          echo "[COUT] echoed=$CO_INPUT_PLAIN"
`;

/** Read an SSE stream to its `end` event (or `timeoutMs`); the raw text. */
async function readRunStream(server: ServeProcess, runId: string, timeoutMs = 60_000): Promise<string> {
  const response = await fetch(`${server.url}/v1/runs/${runId}/events`, {
    headers: { authorization: `Bearer ${server.token}` },
    signal: AbortSignal.timeout(timeoutMs),
  });
  assert.equal(response.status, 200);
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of response.body!) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
    if (/^event: end$/m.test(text)) break;
  }
  return text;
}

describe('a secret sent as run input is stored and served masked', { concurrency: false }, () => {
  let dir: string;
  let server: ServeProcess;
  before(async () => {
    assert.ok(existsSync(CLI_BUILT), `build first (npm run build): ${CLI_BUILT} is missing`);
    dir = await mkdtemp(join(tmpdir(), 'pilotage-secret-inputs-'));
    server = await startServe(dir, {
      PILOTAGE_EVENT_SINKS: join(dir, 'events.jsonl'),
      PILOTAGE_LOG_LEVEL: 'debug',
    });
  });
  after(async () => {
    if (server !== undefined) await stopServe(server);
    await rm(dir, { recursive: true, force: true });
  });

  test('plain, base64, URL-encoded and multi-line: the component gets them, nothing else shows them', async () => {
    for (const [name, value] of [
      ['TOKEN', TOKEN],
      ['CERT', CERT],
    ]) {
      const set = await server.api('PUT', `/v1/secrets/${name}`, { value });
      assert.ok(set.ok, await set.text());
    }
    const applied = await server.api('POST', '/v1/workflows', WORKFLOW);
    assert.ok(applied.ok, await applied.text());
    const answers: string[] = [];

    // 1. through the API, followed on the live stream
    const created = await server.api('POST', '/v1/workflows/secret-inputs/runs', { data: INPUTS });
    const createdText = await created.text();
    assert.equal(created.status, 201, createdText);
    answers.push(createdText);
    const runId = (JSON.parse(createdText) as { id: string }).id;
    const stream = await readRunStream(server, runId);
    assertClean('the live stream', stream);
    assert.match(stream, /\*\*\*/, 'the stream shows the masked inputs');
    const run = await waitRunEnded(server, runId);
    assert.equal(run.state, 'succeeded', JSON.stringify(run));

    // 2. through the CLI, as a client of the server
    const client = { PILOTAGE_SERVER: server.url, PILOTAGE_TOKEN: server.token };
    const cliRun = await runCli(['run', 'secret-inputs', '--plain', '--data', JSON.stringify(INPUTS)], { env: client });
    assert.equal(cliRun.code, 0, cliRun.stdout + cliRun.stderr);
    const cliOutputs = [cliRun.stdout + cliRun.stderr];
    for (const args of [
      ['runs', 'list'],
      ['runs', 'show', runId],
      ['runs', 'show', runId, '--json'],
      ['runs', 'logs', runId],
    ]) {
      const result = await runCli(args, { env: client });
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      cliOutputs.push(result.stdout + result.stderr);
    }
    for (const output of cliOutputs) assertClean('the CLI output', output);
    assert.match(cliOutputs[2]!, /\*\*\*/, 'runs show prints the masked inputs');

    // 3. a rerun reads the inputs the engine sealed: its component gets them as sent again
    const rerun = await server.api('POST', `/v1/runs/${runId}/rerun`, { from: 'start' });
    const rerunText = await rerun.text();
    assert.equal(rerun.status, 201, rerunText);
    answers.push(rerunText);
    const again = await waitRunEnded(server, (JSON.parse(rerunText) as { id: string }).id);
    assert.equal(again.state, 'succeeded', JSON.stringify(again));

    // 4. every answer about the runs
    const detail = (await (await server.api('GET', `/v1/runs/${runId}`)).json()) as any;
    const task = detail.actions[0].attempts[0];
    assert.equal(detail.run.inputs.plain, '***');
    assert.equal(task.output.echoed, '***');
    for (const path of [
      '/v1/runs',
      `/v1/runs/${runId}`,
      `/v1/runs/${runId}/tasks/${task.id}/logs`,
      '/v1/events',
      '/v1/workflows/secret-inputs',
    ]) {
      const answer = await server.api('GET', path);
      assert.equal(answer.status, 200, path);
      answers.push(await answer.text());
    }
    for (const answer of answers) assertClean('an API answer', answer);

    // 5. the store file and its WAL, while the server runs and after it stopped
    for (const file of ['pilotage.db', 'pilotage.db-wal']) {
      if (existsSync(join(dir, file))) assertClean(file, await readFile(join(dir, file)));
    }
    await stopServe(server);
    assertClean('pilotage.db after the stop', await readFile(join(dir, 'pilotage.db')));
    assertClean('the server log', server.output());
    assertClean('the CDEvents', await readFile(join(dir, 'events.jsonl')));
  });
});
