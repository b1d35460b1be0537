import assert from 'node:assert/strict';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { chromiumAvailable, launchBrowser, type TestBrowser } from './support/browser.js';
import { registerFixtures, startTestServer, type TestServer } from './support/server.js';

// The page.evaluate callbacks below run in the browser: these are its globals, as far as they use
// them (this file is type-checked for Node, without the DOM library, which would change Node's types)
declare const document: any;
declare const window: any;
declare const localStorage: { clear(): void };
declare const sessionStorage: { clear(): void };
declare const DataTransfer: any;
declare const ClipboardEvent: any;
type HTMLOptionElement = { readonly disabled: boolean };

/**
 * The web UI end to end, in real headless Chromium against a real `pilotage serve` (built CLI,
 * SQLite, local executor) on a free port: sign in; build a two-stage workflow in the editor by
 * drag and drop; map an output of stage 1 to an input of stage 2; save; start it from the
 * generated form; watch the graph turn green live; open a log and see its lines arrive; rerun
 * from the failed action. Every page is screenshotted into the artefacts folder
 * (PILOTAGE_E2E_ARTIFACTS, default packages/web/e2e-artifacts), and no page may log a console
 * error. With PILOTAGE_DOC_IMAGES (`npm run docs:screenshots`), the docs' images are written too. Needs `npm run build` first (the UI is served from packages/web/dist).
 */

// the engine's store, as built (npm run build): the test plays the cleanup job's part on it
const ENGINE_STORE = new URL('../../engine/dist/store/open-store.js', import.meta.url).href;
const ARTIFACTS = process.env.PILOTAGE_E2E_ARTIFACTS ?? fileURLToPath(new URL('../e2e-artifacts/', import.meta.url));
// `npm run docs:screenshots` sets it (docs/images): the README's and docs/web-ui.md's images
const DOC_IMAGES = process.env.PILOTAGE_DOC_IMAGES;
// generous: CI runs this beside other suites on two cores
const WAIT = { timeout: 60_000 };

const skip = chromiumAvailable() ? false : 'Chromium is not installed (apt-get install chromium)';

describe('web UI in Chromium', { skip, timeout: 600_000 }, () => {
  let server: TestServer;
  let browser: TestBrowser;
  let page: Page;
  let folders: Record<'producer' | 'consumer', string>;
  let shot = 0;
  /** Screenshot the page into the artefacts; with `doc`, also as DOC_IMAGES/<doc>.png (the docs' images). */
  const screenshot = async (name: string, doc?: string) => {
    shot += 1;
    const path = join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path });
    if (doc !== undefined && DOC_IMAGES !== undefined) await copyFile(path, join(DOC_IMAGES, `${doc}.png`));
  };

  before(async () => {
    await rm(ARTIFACTS, { recursive: true, force: true });
    await mkdir(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    folders = await registerFixtures(server);
    browser = await launchBrowser();
    page = await browser.newPage();
  });
  afterEach(async (t) => {
    // the page as it was when a step failed, for the artefacts (node:test marks the context)
    const failed = (t as unknown as { passed?: boolean }).passed === false;
    if (failed && page) await screenshot('failed').catch(() => undefined);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the page is served with a strict Content-Security-Policy and no token in any URL', async () => {
    const response = await fetch(`${server.url}/runs`, { headers: { accept: 'text/html' } });
    assert.equal(response.status, 200);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self' 'nonce-[A-Za-z0-9+/=]+'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce && (await response.text()).includes(`content="${nonce}"`), 'the page carries its nonce');
  });

  test('sign in with an API token: a session cookie, never the token in the page', async () => {
    await page.goto(server.url);
    await page.waitForSelector('#token', WAIT);
    await screenshot('sign-in');
    await page.fill('#token', 'plt_not-a-real-token');
    await page.click('button[type=submit]');
    await page.getByRole('alert').waitFor(WAIT);
    assert.match(await page.getByRole('alert').innerText(), /valid API token is required/);
    browser.errors.length = 0; // the refused sign-in's 401 is the point of this step
    await page.fill('#token', server.admin);
    await page.click('button[type=submit]');
    await page.getByRole('heading', { name: 'Runs' }).waitFor(WAIT);
    await page.getByText('No runs yet').waitFor(WAIT);
    await screenshot('runs-empty');
    const cookies = await browser.context.cookies();
    const session = cookies.find((c) => c.name === 'pilotage_session');
    assert.ok(session, 'a session cookie');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.path, '/v1');
    const stored = await page.evaluate(
      () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    );
    assert.ok(!stored.includes(server.admin), 'the token is not kept by the page');
    assert.ok(!page.url().includes(server.admin));
  });

  test('build a two-stage workflow by drag and drop, map an output of stage 1 to stage 2, rename its producer, save', async () => {
    await page.click('a:has-text("Workflows")');
    await page.getByText('No workflows yet').waitFor(WAIT);
    await screenshot('workflows-empty');
    await page.click('a:has-text("Design a workflow")');
    await page.waitForSelector('.lane[data-stage="build"]', WAIT);
    await page.fill('input[aria-label="Workflow name"]', 'e2e-deploy');

    // stage 1: the producer, dragged from the catalog
    await page.dragAndDrop('.palette [data-component="producer"]', '.lane[data-stage="build"]');
    await page.waitForSelector('[data-action="producer"]', WAIT);
    // its literal inputs: a form generated from the component's input schema
    await page.fill('.inspector #root_delayMs', '100');
    // stage 2, then the consumer dragged into it
    await page.click('button:has-text("+ Stage")');
    await page.waitForSelector('.lane[data-stage="stage"]', WAIT);
    await page.dragAndDrop('.palette [data-component="consumer"]', '.lane[data-stage="stage"]');
    await page.waitForSelector('[data-action="consumer"]', WAIT);
    await page.waitForSelector('.inspector [data-input="version"]', WAIT);
    // the data map offers producer.version (a string: fits) and refuses producer.count (an integer)
    const options = await page.$$eval('select[aria-label="Source of version"] option', (els) =>
      els.map((e) => ({ text: e.textContent ?? '', disabled: (e as HTMLOptionElement).disabled })),
    );
    assert.ok(
      options.some((o) => o.text.startsWith('producer.version') && !o.disabled),
      JSON.stringify(options),
    );
    assert.ok(
      options.some((o) => o.text.startsWith('producer.count') && o.disabled && o.text.includes('type differs')),
    );
    await page.selectOption('select[aria-label="Source of version"]', { label: 'producer.version (string)' });
    await page.waitForSelector('.inspector .mapped:has-text("producer.version")', WAIT);
    // a second source for the same input is refused (dragged onto the mapped input)
    await page.dragAndDrop('.output-chip[data-output="producer.count"]', '.inspector tr[data-input="version"]');
    await page.waitForSelector('.toast:has-text("one input takes one source")', WAIT);
    await page.waitForSelector('text=✓ the server accepts it', WAIT);
    await page.waitForSelector('.toast', { state: 'detached', ...WAIT });
    await screenshot('editor-graph', 'editor');
    // renaming the producer rewrites the expression that reads it: the consumer keeps its source
    const rename = async (from: string, to: string) => {
      await page.click(`[data-action="${from}"]`);
      await page.click('#tab-settings');
      await page.fill('#act-name', to);
      await page.press('#act-name', 'Enter');
      await page.waitForSelector(`[data-action="${to}"]`, WAIT);
    };
    await rename('producer', 'make-version');
    await page.click('[data-action="consumer"]');
    await page.waitForSelector('.inspector .mapped:has-text("make-version.version")', WAIT);
    await rename('make-version', 'producer');
    await page.click('[data-action="consumer"]');
    await page.waitForSelector('.inspector .mapped:has-text("producer.version")', WAIT);

    // the YAML tab shows the same workflow; an edit there (an input for the run form) shows in the graph
    await page.click('#tab-yaml');
    await page.waitForSelector('.cm-content', WAIT);
    const yaml = await page.$$eval('.cm-line', (lines) => lines.map((l) => l.textContent ?? '').join('\n'));
    assert.match(yaml, /component: producer@1\.0\.0/);
    assert.match(yaml, /version: "?\$\{\{ actions\.producer\.outputs\.version \}\}"?/);
    const indent = /^( *)delayMs: 100$/m.exec(yaml)?.[1];
    assert.ok(indent !== undefined, yaml);
    const edited = yaml
      .replace('properties: {}', 'properties:\n    lines: { type: integer, default: 30, description: "log lines" }')
      .replace(/^( *)delayMs: 100$/m, `${indent}delayMs: 100\n${indent}lines: "\${{ inputs.lines }}"`);
    await page.click('.cm-content');
    await page.keyboard.press('Control+a');
    // a paste, as a person would do it (CodeMirror takes it from the clipboard event)
    await page.evaluate((text) => {
      const data = new DataTransfer();
      data.setData('text/plain', text);
      const paste = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
      document.querySelector('.cm-content')!.dispatchEvent(paste);
    }, edited);
    await page.waitForSelector('text=✓ the server accepts it', WAIT);
    await screenshot('editor-yaml');
    await page.click('#tab-graph');
    await page.waitForSelector('[data-action="consumer"]', WAIT);

    await page.click('button:has-text("Save…")');
    await page.waitForSelector('[role="dialog"] pre.diff', WAIT);
    assert.match(await page.innerText('[role="dialog"] pre.diff'), /\+name: e2e-deploy/);
    await screenshot('editor-save-diff');
    await page.click('[role="dialog"] button:has-text("Create")');
    await page.getByRole('heading', { name: 'e2e-deploy', exact: true }).waitFor(WAIT);
    await page.waitForURL(/\/workflows\/e2e-deploy$/, WAIT);
    const stored = await server.api('GET', '/v1/workflows/e2e-deploy/versions/1');
    assert.equal(stored.status, 200);
    assert.match(stored.body.source, /actions\.producer\.outputs\.version/);
  });

  let firstRun = '';
  test('start it from the generated form; the graph turns green live; a log streams in', async () => {
    await writeFile(join(folders.consumer, 'fail-once'), 'make the first deployment fail\n');
    await page.waitForSelector('#root_lines', WAIT);
    // the raw JSON view checks the data against the same schema
    await page.click('#tab-json');
    await page.waitForSelector('.start-run .cm-content', WAIT);
    await page.click('.start-run .cm-content');
    await page.keyboard.press('Control+a');
    await page.keyboard.type('{"lines": "many"}');
    await page.waitForSelector('.start-run [role="alert"]:has-text("must be integer")', WAIT);
    await page.click('#tab-form');
    await page.waitForSelector('#root_lines', WAIT);
    await page.fill('#root_lines', '60');
    await screenshot('workflow-start-form');
    await page.click('button:has-text("Start run")');
    await page.waitForURL(/\/runs\/[0-9A-Z]+/, WAIT);
    firstRun = page.url().split('/runs/')[1]!.split('?')[0]!;
    // the whole planned graph is there from the start
    await page.waitForSelector('[data-action="producer"]', WAIT);
    await page.waitForSelector('[data-action="consumer"]', WAIT);
    await page.waitForSelector('[data-action="producer"][data-state="running"]', WAIT);
    await page.click('[data-action="producer"]');
    await page.waitForSelector('.log-row', WAIT);
    const early = await page.$$eval('.log-row', (rows) => rows.length);
    await screenshot('run-live-log');
    if (DOC_IMAGES !== undefined) {
      // the docs' picture: a log well under way
      await page.waitForFunction(() => document.querySelectorAll('.log-row').length >= 25, undefined, WAIT);
      await screenshot('run-live-log-later', 'run-page');
    }
    await page.waitForSelector('[data-action="producer"][data-state="succeeded"]', WAIT);
    await page.waitForSelector('.log-foot:has-text("60 lines")', WAIT);
    assert.ok(early < 60, `lines arrived while it ran (first saw ${early} of 60)`);
    // ANSI colours are elements, not escape codes
    assert.ok((await page.$$('.log-row .ansi-green-fg')).length > 0);
    assert.ok(!(await page.innerText('.log-box')).includes('\u001b'));
    await page.fill('input[aria-label="Search the log"]', 'step 42 of');
    await page.waitForSelector('text=1 of 1', WAIT);
    await page.waitForSelector('[data-action="consumer"][data-state="failed"]', WAIT);
    await page.waitForSelector('.run-title [data-state="failed"]', WAIT);
    await page.click('[data-action="consumer"]');
    await page.waitForSelector('.log-foot:has-text("complete")', WAIT);
    assert.match(await page.innerText('.log-box'), /refused the deployment/);
    await screenshot('run-failed');
    const run = await server.api('GET', `/v1/runs/${firstRun}`);
    assert.equal(run.body.run.state, 'failed');
    assert.equal(run.body.actions.find((a: any) => a.name === 'consumer').attempts[0].eventData.version, '1.2.3');
  });

  test('the run’s CDEvents, the runs list and the timeline', async () => {
    await page.click('#tab-events');
    await page.waitForSelector('.cdevents', WAIT);
    assert.match(await page.innerText('.cdevents'), /pipelinerun\.queued/);
    await screenshot('run-cdevents');
    await page.click('#tab-graph');
    await page.click('a:has-text("Runs")');
    await page.waitForSelector('.runs-table', WAIT);
    await page.selectOption('select[data-search]', 'e2e-deploy');
    await page.waitForSelector('.runs-table [data-state="failed"]', WAIT);
    await screenshot('runs-list');
  });

  test('rerun from the failed action: the producer is reused, the consumer runs again and the graph is green', async () => {
    await rm(join(folders.consumer, 'fail-once'));
    await page.goto(`${server.url}/runs/${firstRun}`);
    await page.click('button:has-text("Rerun from failed")');
    await page.waitForURL((url) => !url.pathname.endsWith(firstRun), WAIT);
    await page.waitForSelector('[data-action="consumer"][data-state="succeeded"]', WAIT);
    await page.waitForSelector('[data-action="producer"][data-state="succeeded"]', WAIT);
    await page.waitForSelector('.run-title [data-state="succeeded"]', WAIT);
    await page.click('[data-action="producer"]');
    await page.click('#tab-timeline');
    await screenshot('rerun-green');
    const id = page.url().split('/runs/')[1]!.split('?')[0]!;
    const rerun = await server.api('GET', `/v1/runs/${id}`);
    assert.equal(rerun.body.run.state, 'succeeded');
    assert.deepEqual(rerun.body.run.trigger.details, { of: firstRun, from: 'failed' });
    const producer = rerun.body.actions.find((a: any) => a.name === 'producer').attempts[0];
    assert.match(producer.reason, /reused/);
  });

  test('a failed run whose kept workspace expired: the page says so, and offers a rerun with an empty workspace', async () => {
    await page.goto(`${server.url}/runs/${firstRun}`);
    await page.waitForSelector('.run-workspace:has-text("kept until")', WAIT);
    // the cleanup job's step, on the server's store (the server is another process on this file)
    const { openStore } = (await import(ENGINE_STORE)) as {
      openStore(options: { url: string }): Promise<{
        retention: { markWorkspaceExpired(runId: string): Promise<boolean> };
        close(): Promise<void>;
      }>;
    };
    const store = await openStore({ url: join(server.dir, 'pilotage.db') });
    try {
      assert.equal(await store.retention.markWorkspaceExpired(firstRun), true);
    } finally {
      await store.close();
    }
    await page.reload();
    await page.waitForSelector('.run-workspace:has-text("expired")', WAIT);
    await page.click('button:has-text("Rerun from failed")');
    await page.getByRole('alert').waitFor(WAIT);
    assert.match(await page.getByRole('alert').innerText(), /workspace of run .* expired/);
    browser.errors.length = 0; // the refused rerun's 409 is the point of this step
    await screenshot('rerun-workspace-expired');
    await page.click('button:has-text("Rerun from failed with an empty workspace")');
    await page.waitForURL((url) => !url.pathname.endsWith(firstRun), WAIT);
    const id = page.url().split('/runs/')[1]!.split('?')[0]!;
    const rerun = await server.api('GET', `/v1/runs/${id}`);
    assert.equal(rerun.body.run.workspace.from, null);
    assert.deepEqual(rerun.body.run.trigger.details, { of: firstRun, from: 'failed' });
    await page.waitForSelector('.run-title [data-state="succeeded"]', WAIT);
  });

  test('the runs list updates live: a run started elsewhere appears and turns green without a reload', async () => {
    await page.goto(`${server.url}/runs?workflow=e2e-deploy`);
    await page.waitForSelector('.runs-table', WAIT);
    await page.waitForSelector('[data-live="live"]', WAIT);
    // a reload would lose this mark
    await page.evaluate(() => ((window as unknown as { pilotageMark?: boolean }).pilotageMark = true));
    const started = await server.api('POST', '/v1/workflows/e2e-deploy/runs', { data: { lines: 5 } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const row = `.runs-table tr:has(a[href="/runs/${started.body.id}"])`;
    await page.waitForSelector(row, WAIT);
    await page.waitForSelector(`${row} [data-state="succeeded"]`, WAIT);
    await screenshot('runs-live', 'runs-list');
    assert.equal(await page.evaluate(() => (window as unknown as { pilotageMark?: boolean }).pilotageMark), true);
  });

  test('matrix combinations, a finally stage and a child run are drawn; the child run is a link away', async () => {
    const workflow = (body: string) => `apiVersion: pilotage.dev/v1\nkind: Workflow\n${body}`;
    const child = workflow(`name: e2e-child
stages:
  - name: hello
    actions:
      - { name: hello, run: echo hello from the child }
`);
    const parent = workflow(`name: e2e-shapes
stages:
  - name: build
    actions:
      - name: build
        matrix: { os: [linux, mac] }
        env: { OS: "\${{ matrix.os }}" }
        run: echo "building on $OS"
  - name: call
    actions:
      - { name: child, uses: e2e-child@latest }
finally:
  - name: cleanup
    actions:
      - { name: tidy, run: echo tidy }
`);
    for (const source of [child, parent]) {
      const applied = await server.api('POST', '/v1/workflows', { source });
      assert.ok(applied.status < 300, JSON.stringify(applied.body));
    }
    const started = await server.api('POST', '/v1/workflows/e2e-shapes/runs', {});
    assert.equal(started.status, 201, JSON.stringify(started.body));
    await page.goto(`${server.url}/runs/${started.body.id}`);
    await page.waitForSelector('.run-title [data-state="succeeded"]', WAIT);
    // one node per combination, named as its task runs are
    await page.waitForSelector('[data-action="build (linux)"][data-state="succeeded"]', WAIT);
    await page.waitForSelector('[data-action="build (mac)"][data-state="succeeded"]', WAIT);
    assert.equal(await page.$('[data-action="build"]'), null, 'the matrix action gave way to its combinations');
    await page.waitForSelector('.lane-finally[data-stage="cleanup"]', WAIT);
    await page.waitForSelector('[data-action="tidy"][data-state="succeeded"]', WAIT);
    assert.match(await page.innerText('[data-action="child"]'), /calls e2e-child@latest/);
    await page.click('[data-action="child"]');
    await page.waitForSelector('a.child-run', WAIT);
    await screenshot('run-matrix-finally-child', 'run-matrix-finally-child');
    await page.click('a.child-run');
    await page.getByRole('heading', { name: /e2e-child/ }).waitFor(WAIT);
    await page.waitForSelector('[data-action="hello"][data-state="succeeded"]', WAIT);
    await page.click('a.parent-run');
    await page.waitForURL(new RegExp(`/runs/${started.body.id}$`), WAIT);
  });

  test('approve and reject a gate from the run page; 100 planned actions in one stage stay drawn', async () => {
    const wide = Array.from({ length: 100 }, (_, i) => `      - { name: step-${i + 1}, run: echo ${i + 1} }`).join(
      '\n',
    );
    const gate = (name: string, after: string) => `apiVersion: pilotage.dev/v1
kind: Workflow
name: ${name}
stages:
  - { name: sign-off, type: approval }
  - name: after
    actions:
${after}
`;
    for (const source of [gate('e2e-gate', '      - { name: ship, run: echo shipped }'), gate('e2e-wide', wide)]) {
      const applied = await server.api('POST', '/v1/workflows', { source });
      assert.ok(applied.status < 300, JSON.stringify(applied.body));
    }
    // approve: the next stage runs
    const approved = await server.api('POST', '/v1/workflows/e2e-gate/runs', {});
    await page.goto(`${server.url}/runs/${approved.body.id}`);
    await page.waitForSelector('.approval-bar', WAIT);
    await page.fill('.approval-bar input[aria-label="Comment"]', 'looks good');
    await page.click('.approval-bar button:has-text("Approve")');
    await page.waitForSelector('[data-action="ship"][data-state="succeeded"]', WAIT);
    await page.waitForSelector('.run-title [data-state="succeeded"]', WAIT);
    // reject, on a run whose next stage holds 100 actions: all drawn from the start, compact
    const rejected = await server.api('POST', '/v1/workflows/e2e-wide/runs', {});
    await page.goto(`${server.url}/runs/${rejected.body.id}`);
    await page.waitForSelector('.approval-bar', WAIT);
    await page.waitForSelector('[data-action="step-100"]', { state: 'attached', ...WAIT });
    assert.equal((await page.$$('[data-action^="step-"]')).length, 100);
    await screenshot('run-gate-wide');
    await page.fill('.approval-bar input[aria-label="Comment"]', 'not today');
    await page.click('.approval-bar button:has-text("Reject")');
    await page.waitForSelector('.run-title [data-state="failed"]', WAIT);
    assert.match(await page.innerText('.run-facts'), /not today/);
    const detail = await server.api('GET', `/v1/runs/${rejected.body.id}`);
    const steps = detail.body.actions.filter((a: any) => a.name.startsWith('step-'));
    assert.equal(steps.length, 100);
    assert.ok(
      steps.every((a: any) => [null, 'skipped', 'cancelled'].includes(a.state)),
      'no step of the stage ran',
    );
  });

  test('a task that reported past the status cap: the panel shows the latest, pages older ones, and says what was dropped', async () => {
    const program = join(server.dir, 'chatty.mjs');
    await writeFile(
      program,
      `const post = async (url, body) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) { console.error(url.split('?')[0], res.status, await res.text()); process.exit(3); }
};
await post(process.env.CO_COMPONENT_START, {});
await post(process.env.CO_TASK_START, {});
for (let i = 1; i <= 100; i++) await post(process.env.CO_TASK_STATUS, { message: 'tick ' + i, progress: i / 100 });
`,
    );
    const source = `apiVersion: pilotage.dev/v1\nkind: Workflow\nname: e2e-chatty\nstages:\n  - name: talk\n    actions:\n      - name: talk\n        run: node ${JSON.stringify(program)}\n`;
    const applied = await server.api('POST', '/v1/workflows', { source });
    assert.ok(applied.status < 300, JSON.stringify(applied.body));
    const started = await server.api('POST', '/v1/workflows/e2e-chatty/runs', {});
    assert.equal(started.status, 201, JSON.stringify(started.body));
    // opened once it ended, so the page starts from the run detail's latest 20 (not live reports)
    for (let i = 0; i < 600; i++) {
      if (!['queued', 'running'].includes((await server.api('GET', `/v1/runs/${started.body.id}`)).body.run.state))
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.goto(`${server.url}/runs/${started.body.id}`);
    await page.waitForSelector('.run-title [data-state="succeeded"]', WAIT);
    await page.click('[data-action="talk"]');
    await page.waitForSelector('.notice.dropped:has-text("40 TASK_STATUS reports")', WAIT);
    await page.click('[role="tab"]:has-text("Statuses (60)")');
    await page.waitForSelector(
      '[data-testid="statuses-shown"]:has-text("Showing 20 of 60 stored; 40 more were dropped")',
      WAIT,
    );
    const seqs = () => page.$$eval('.status-row td:first-child', (cells) => cells.map((c) => Number(c.textContent)));
    assert.deepEqual((await seqs()).slice(0, 2), [60, 59], 'newest first');
    await page.click('button:has-text("Load older (before #41)")');
    await page.waitForSelector('[data-testid="statuses-shown"]:has-text("Showing 60 of 60")', WAIT);
    assert.deepEqual(
      await seqs(),
      Array.from({ length: 60 }, (_, i) => 60 - i),
    );
    assert.equal(await page.$('button:has-text("Load older")'), null, 'nothing older to load');
    await screenshot('task-statuses-capped');
    await page.click('[role="tab"]:has-text("Log")');
    await page.waitForSelector('.log-row:has-text("TASK_STATUS reports reached their cap of 60 reports")', WAIT);
  });

  test('every other page renders without a console error, in both themes', async () => {
    for (const [path, name, ready] of [
      ['/workflows', 'workflows', '.table'],
      ['/workflows/e2e-deploy', 'workflow', '#root_lines'],
      ['/components', 'components', '.component-grid'],
      ['/components/consumer', 'component', 'text=Deploys a version'],
      ['/components/new', 'component-register', '.cm-content'],
      ['/no/such/page', 'not-found', 'text=No such page'],
    ] as const) {
      await page.goto(server.url + path);
      await page.waitForSelector(ready, WAIT);
      await screenshot(name);
    }
    await page.goto(`${server.url}/components/consumer`);
    await page.click('#tab-inputs');
    await page.waitForSelector('.schema-table', WAIT);
    await screenshot('component-inputs');
    await page.keyboard.press('?');
    await page.waitForSelector('[role="dialog"]:has-text("Keyboard shortcuts")', WAIT);
    await screenshot('shortcuts');
    await page.keyboard.press('Escape');
    await page.keyboard.press('t');
    await page.goto(`${server.url}/runs/${firstRun}?action=consumer`);
    await page.waitForSelector('.log-row', WAIT);
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await screenshot('run-dark');
    assert.deepEqual(browser.errors, [], 'no console error on any page');
  });

  test('sign out ends the session', async () => {
    await page.click('button:has-text("Sign out")');
    await page.waitForSelector('#token', WAIT);
    const cookies = await browser.context.cookies();
    assert.equal(
      cookies.find((c) => c.name === 'pilotage_session'),
      undefined,
    );
    assert.deepEqual(browser.errors, []);
  });
});
