import { createInterface } from 'node:readline';
import type { ApprovalDecision } from '../engine/approval-gate.js';

/** An answer given at the prompt. */
export type PromptAnswer = Pick<ApprovalDecision, 'approved' | 'comment'>;

/** What `promptApproval` reads from and writes to, and what stops it. */
export interface PromptOptions {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  /** a terminal (raw mode: Ctrl-C reaches the prompt as a key, not as a signal) */
  readonly terminal: boolean;
  readonly question: string;
  /** aborted when the question is moot (decided from another shell, timed out, run ended) */
  readonly signal: AbortSignal;
  /** Ctrl-C at the prompt: the caller cancels the run, as Ctrl-C does anywhere else */
  readonly onInterrupt: () => void;
}

/**
 * Ask whether to approve: `y` approves, `n` rejects, then an optional comment; anything else asks
 * again. Resolves with the answer, or undefined when `signal` aborts it, the input ends (Ctrl-D)
 * or Ctrl-C is pressed (then `onInterrupt` is called once the prompt is closed, so the terminal
 * is back to normal and a second Ctrl-C quits at once).
 */
export function promptApproval(options: PromptOptions): Promise<PromptAnswer | undefined> {
  const { output, signal } = options;
  const rl = createInterface({ input: options.input, output, terminal: options.terminal });
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: PromptAnswer | undefined): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      rl.close();
      resolve(answer);
    };
    const onAbort = (): void => {
      output.write('\n');
      finish(undefined);
    };
    // without a listener here, readline would pause the input and the run would go on waiting
    rl.on('SIGINT', () => {
      output.write('^C\n');
      finish(undefined);
      options.onInterrupt();
    });
    rl.on('close', () => finish(undefined));
    if (signal.aborted) return finish(undefined);
    signal.addEventListener('abort', onAbort);
    const ask = (): void =>
      rl.question(options.question, (text) => {
        const word = text.trim().toLowerCase();
        if (!['y', 'yes', 'n', 'no'].includes(word)) {
          output.write('answer y to approve or n to reject\n');
          return ask();
        }
        const approved = word.startsWith('y');
        rl.question(`comment (optional, Enter for none): `, (comment) => {
          const text = comment.trim();
          finish({ approved, ...(text === '' ? {} : { comment: text }) });
        });
      });
    ask();
  });
}
