import { ConflictError } from '../domain/errors.js';
import { ContractSession } from './session.js';
import { hashToken } from './tokens.js';
import type { CallbackStep } from './body.js';
import type { CallbackAnswer } from './session.js';
import type { SessionOptions } from './types.js';

/**
 * Callbacks for tokens with no live session in this process: task runs that another replica
 * carries (service/store-callbacks.ts applies them through the store). Each answers undefined
 * for a token whose task run it does not know or that has ended, which then gets the usual 404
 * or 409.
 */
export interface RemoteCallbacks {
  submit(tokenHash: string, step: CallbackStep, rawBody: string | undefined): Promise<CallbackAnswer | undefined>;
  data(tokenHash: string): Promise<{ readonly status: 200; readonly json: string } | undefined>;
}

/**
 * The live callback sessions, keyed by the sha256 of their token. The engine registers a
 * session before it starts a component and unregisters it after the task run is recorded as
 * ended; the callback routes look sessions up here. In memory, one per engine process.
 */
export class CallbackRegistry {
  readonly #sessions = new Map<string, ContractSession>();
  readonly #endedState: ((tokenHash: string) => Promise<string | undefined>) | undefined;
  #remote: RemoteCallbacks | undefined;

  /**
   * `endedState` answers, for a token hash with no live session, the final state of its task
   * run if it has ended (from the store): such calls get 409 naming it rather than 404, even
   * after the run was forgotten or the engine restarted.
   */
  constructor(options: { endedState?: (tokenHash: string) => Promise<string | undefined> } = {}) {
    this.#endedState = options.endedState;
  }

  /** The final state of an ended task run that owned `tokenHash`, if known. Never rejects. */
  async endedState(tokenHash: string): Promise<string | undefined> {
    if (!this.#endedState) return undefined;
    try {
      return await this.#endedState(tokenHash);
    } catch {
      return undefined;
    }
  }

  /**
   * Open the session of a task run's `token` (the raw secret; only its hash is kept). Throws a
   * ConflictError when that token is already registered.
   */
  register(token: string, options: SessionOptions): ContractSession {
    return this.reopen(hashToken(token), options);
  }

  /**
   * Open the session of a token known only by its hash: a task run that a previous engine
   * process started, re-attached after a restart (the raw token lives only in the component's
   * environment). Give `options.restored` what the store recorded, so that the component's
   * calls continue where they were. Throws a ConflictError when that hash is already registered.
   */
  reopen(tokenHash: string, options: SessionOptions): ContractSession {
    if (this.#sessions.has(tokenHash)) {
      throw new ConflictError(`a callback session is already registered for task run ${options.taskRunId}'s token`);
    }
    const session = new ContractSession(tokenHash, options);
    this.#sessions.set(tokenHash, session);
    return session;
  }

  /** Where callbacks without a live session here go (a server with replicas sets it); undefined: 404/409. */
  get remote(): RemoteCallbacks | undefined {
    return this.#remote;
  }

  /** Set where callbacks without a live session here go (`remote`). */
  setRemote(remote: RemoteCallbacks | undefined): void {
    this.#remote = remote;
  }

  /** The live session of task run `taskRunId`, if one is registered here. */
  sessionOfTask(taskRunId: string): ContractSession | undefined {
    for (const session of this.#sessions.values()) if (session.taskRunId === taskRunId) return session;
    return undefined;
  }

  /** The session of a token hash, or undefined. */
  get(tokenHash: string): ContractSession | undefined {
    return this.#sessions.get(tokenHash);
  }

  /** The session of a raw token, or undefined. */
  lookup(token: string): ContractSession | undefined {
    return this.#sessions.get(hashToken(token));
  }

  /** Forget a session; later calls with its token get 404. Returns whether it was registered. */
  unregister(tokenHash: string): boolean {
    return this.#sessions.delete(tokenHash);
  }

  /** Forget every session of a run (after it ended): later calls with their tokens get 404. */
  forgetRun(runId: string): number {
    let forgotten = 0;
    for (const [hash, session] of this.#sessions) {
      if (session.runId === runId) {
        this.#sessions.delete(hash);
        forgotten += 1;
      }
    }
    return forgotten;
  }

  /** How many sessions are open. */
  get size(): number {
    return this.#sessions.size;
  }
}
