import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Write `chatty.mjs` into `dir`: a component (a Node program) that makes every contract call over
 * real HTTP, posting `reports` TASK_STATUS reports (`report <i> ` and `padding` x's, progress,
 * output `{i}`), printing `logLines` lines of 82 bytes (newline included) and a `[COUT]
 * tail=after-the-cap` line, then TASK_RESULT with output `{kept: 'the result', reports}`.
 * Returns the program's path (run it with `node PATH`).
 */
export async function writeChattyComponent(
  dir: string,
  options: { readonly reports: number; readonly logLines: number; readonly padding?: number },
): Promise<string> {
  const program = `
const post = async (url, body) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(url.split('?')[0] + ' answered ' + res.status + ' ' + (await res.text()));
};
const env = process.env;
await post(env.CO_COMPONENT_START, {});
await post(env.CO_TASK_START, {});
for (let i = 1; i <= ${options.reports}; i++) {
  await post(env.CO_TASK_STATUS, { message: 'report ' + i + ' ' + 'x'.repeat(${options.padding ?? 0}), progress: i / ${options.reports}, output: { i } });
}
let text = '';
for (let i = 1; i <= ${options.logLines}; i++) text += 'line ' + String(i).padStart(5, '0') + ' ' + 'y'.repeat(70) + '\\n';
process.stdout.write(text);
process.stdout.write('[COUT] tail=after-the-cap\\n');
await post(env.CO_TASK_RESULT, { status: 'success', output: { kept: 'the result', reports: ${options.reports} } });
await post(env.CO_COMPONENT_STOP, {});
`;
  const path = join(dir, 'chatty.mjs');
  await writeFile(path, program);
  return path;
}
