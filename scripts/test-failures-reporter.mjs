// A reporter for Node's test runner, beside the usual one (scripts/test.mjs adds it): it keeps what
// a failure needs to be understood once the run is over, and writes it as JSON to its destination.
// A CI log is often read only by its last lines; a failure thousands of lines up, or one that is
// not a test at all (a file whose process threw or exited non-zero after its tests passed: Node
// counts it as one more failing "test" named by the file), was then invisible. scripts/test.mjs
// prints this list after Node's summary, then the count line.
/** Lines a file's process printed besides its report, the last ones kept: a late error's stack is among them. */
const PRINTED_LINES = 40;
/** Characters kept of one failure's error text. */
const ERROR_CHARS = 2000;

/** What an error of a failing test says: its message, and the cause's when Node wrapped it. */
function errorText(error) {
  if (error === undefined || error === null) return '';
  const cause = error.cause;
  const text =
    cause instanceof Error && cause.message !== error.message
      ? `${error.message}: ${cause.stack ?? cause.message}`
      : ((cause instanceof Error ? cause.stack : undefined) ?? error.stack ?? String(error.message ?? error));
  // the runner's own frames say nothing of the failure
  const own = text
    .split('\n')
    .filter((line) => !/^\s+at (.* \()?(node:|new Promise \(<anonymous>\)|Array\.map)/.test(line))
    .join('\n');
  return own.length > ERROR_CHARS ? `${own.slice(0, ERROR_CHARS)}…` : own;
}

export default async function* failuresReporter(source) {
  /** the names of the tests under way, by nesting, per file (files run concurrently) */
  const paths = new Map();
  const printed = new Map();
  const failures = [];
  /** diagnostics that are not the summary's counts (such as "asynchronous activity after the test ended") */
  const notes = [];
  const counts = {};
  for await (const event of source) {
    const { type, data } = event;
    if (type === 'test:start') {
      const path = paths.get(data.file) ?? [];
      path.length = data.nesting;
      path.push(data.name);
      paths.set(data.file, path);
    } else if (type === 'test:stderr' || type === 'test:stdout') {
      // what a file's process printed besides its report (a late error's stack goes to stderr)
      const lines = printed.get(data.file) ?? [];
      lines.push(...String(data.message).replace(/\n$/, '').split('\n'));
      printed.set(data.file, lines.slice(-PRINTED_LINES));
    } else if (type === 'test:fail') {
      const error = data.details?.error;
      // a suite failing because one of its tests did says nothing the test's own failure does not
      if (error?.failureType === 'subtestsFailed') continue;
      const path = [...(paths.get(data.file) ?? []).slice(0, data.nesting), data.name];
      failures.push({ file: data.file ?? '', test: path.join(' > '), error: errorText(error) });
    } else if (type === 'test:diagnostic') {
      const count = /^(tests|pass|fail|cancelled|skipped|todo) (\d+)$/.exec(String(data.message));
      if (count !== null) counts[count[1]] = Number(count[2]);
      else if (!/^(suites|duration_ms) /.test(String(data.message)) && notes.length < 50) notes.push(data.message);
    }
  }
  yield JSON.stringify({
    counts,
    failures: failures.map((f) => ({ ...f, printed: printed.get(f.file) ?? [] })),
    notes,
  });
}
