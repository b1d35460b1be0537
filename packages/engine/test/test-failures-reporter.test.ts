import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

const REPORTER = join(
  dirname(new URL(import.meta.url).pathname),
  '..',
  '..',
  '..',
  'scripts',
  'test-failures-reporter.mjs',
);

interface Report {
  readonly counts: Record<string, number>;
  readonly failures: readonly { file: string; test: string; error: string; printed: string[] }[];
  readonly notes: readonly string[];
}

// scripts/test.mjs lists the failures after Node's summary from what this reporter keeps
describe('the test failures reporter (scripts/test-failures-reporter.mjs), on a real run of Node test runner', () => {
  let dir: string;
  let report: Report;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilotage-reporter-'));
    const files: Record<string, string> = {
      'fails.test.mjs': [
        "import { describe, test } from 'node:test';",
        "import assert from 'node:assert';",
        "console.error('before the failure');",
        "describe('outer', () => { test('inner', () => assert.equal(1, 2)); test('fine', () => {}); });",
      ].join('\n'),
      'late.test.mjs': [
        "import { test } from 'node:test';",
        "test('passes', () => {});",
        "setTimeout(() => { throw new Error('thrown after the tests'); }, 100);",
      ].join('\n'),
      'passes.test.mjs': "import { test } from 'node:test';\ntest('all good', () => {});",
    };
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    const destination = join(dir, 'report.json');
    await promisify(execFile)(
      process.execPath,
      [
        '--test',
        `--test-reporter=${REPORTER}`,
        `--test-reporter-destination=${destination}`,
        ...Object.keys(files).map((name) => join(dir, name)),
      ],
      // a runner started from a test would otherwise report to its parent, not to its reporters
      { cwd: dir, env: { PATH: process.env['PATH'] ?? '' } },
    ).catch(() => undefined); // it fails: that is the point
    report = JSON.parse(await readFile(destination, 'utf8')) as Report;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test("a failing test is named with its suites, its file and its error; its suite's failure is not repeated", () => {
    const failure = report.failures.find((f) => f.file.endsWith('fails.test.mjs'));
    assert.ok(failure, JSON.stringify(report.failures));
    assert.equal(failure.test, 'outer > inner');
    assert.match(failure.error, /1 == 2/);
    assert.ok(!failure.error.includes('node:internal'), failure.error);
    assert.deepEqual(failure.printed, ['before the failure']);
    assert.equal(report.failures.filter((f) => f.file.endsWith('fails.test.mjs')).length, 1);
  });

  test('a file whose process threw after its tests passed is a failure of its own, and the runner says why', () => {
    const late = report.failures.find((f) => f.file.endsWith('late.test.mjs'));
    assert.ok(late, JSON.stringify(report.failures));
    assert.equal(late.test, late.file);
    assert.ok(
      report.notes.some((n) => n.includes('thrown after the tests')),
      JSON.stringify(report.notes),
    );
  });

  test("the counts are the summary's", () => {
    assert.equal(report.failures.length, 2);
    assert.equal(report.counts['fail'], 2);
    assert.equal(report.counts['pass'], 3);
  });
});
