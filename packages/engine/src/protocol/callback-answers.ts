import { isCallbackStep } from './body.js';
import type { CallbackRegistry } from './registry.js';
import type { CallbackAnswer } from './session.js';
import { hashToken } from './tokens.js';

/** Largest callback body accepted, bytes (a TASK_RESULT with its output). */
export const CALLBACK_BODY_LIMIT_BYTES = 1024 * 1024;

/** The answer to an unknown token or path: nothing hints whether a run exists. */
export const NOT_FOUND: CallbackAnswer = {
  status: 404,
  body: { ok: false, code: 'NOT_FOUND', message: 'unknown callback token' },
};

/**
 * The answers of the callback routes, whatever serves them (the API server's Fastify plugin,
 * routes.ts, or the embedded engine's plain HTTP server, server.ts): `POST /v1/callbacks/:token/:step`
 * with the raw body, and `GET /v1/callbacks/:token/data` (`json`: the event data to send as is).
 */
export async function answerCallback(
  registry: CallbackRegistry,
  method: 'GET' | 'POST',
  token: string,
  step: string,
  rawBody: string | undefined,
): Promise<CallbackAnswer | { readonly status: 200; readonly json: string }> {
  if (method === 'POST' ? !isCallbackStep(step) : step !== 'data') return NOT_FOUND;
  const tokenHash = hashToken(token);
  const session = registry.get(tokenHash);
  if (session === undefined) {
    // a task run another replica carries (or nobody, for a moment): applied through the store
    const remote = registry.remote;
    if (remote !== undefined) {
      const answer =
        method === 'GET'
          ? await remote.data(tokenHash)
          : await remote.submit(tokenHash, step as Parameters<typeof remote.submit>[1], rawBody);
      if (answer !== undefined) return answer;
    }
    const state = await registry.endedState(tokenHash);
    return state === undefined ? NOT_FOUND : endedAnswer(state);
  }
  if (method === 'GET') return session.data();
  return session.submit(step as Parameters<typeof session.submit>[0], rawBody);
}

/** The 409 for a call whose task run has ended and whose session is gone. */
function endedAnswer(state: string): CallbackAnswer {
  return {
    status: 409,
    body: {
      ok: false,
      code: 'TASK_RUN_ENDED',
      message: `refused: the task run has already ended (${state}); no callback is accepted after that`,
      state,
    },
  };
}
