import type { CallbackStep } from './body.js';
import { parseJsonObject, parseStepBody } from './body.js';
import type { SequenceErrorCode } from './sequence.js';
import { checkSequence, contractState } from './sequence.js';
import type { AcceptedStep, ContractStep, ResultBody, SessionOptions } from './types.js';
import { CONTRACT_STEPS } from './types.js';

/** Stable codes of a refused callback (docs/contract.md lists them). */
export type CallbackErrorCode =
  | SequenceErrorCode
  | 'BAD_BODY'
  | 'BODY_TOO_LARGE'
  | 'BAD_CONTENT_TYPE'
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'NOT_SUPPORTED'
  | 'INTERNAL';

/** The body of a callback answer: `{ok:true}`, or a stable code, a message and maybe the state. */
export type CallbackReply =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: CallbackErrorCode;
      readonly message: string;
      readonly state?: string;
    };

/** An HTTP status and its JSON body; the routes send exactly this. */
export interface CallbackAnswer {
  readonly status: 200 | 400 | 404 | 409 | 500;
  readonly body: CallbackReply;
}

const OK: CallbackAnswer = { status: 200, body: { ok: true } };

/**
 * The engine's view of one task run's callbacks: which steps were accepted, the result, and
 * whether the engine has ended it. Created by `CallbackRegistry.register`.
 *
 * Calls are processed in arrival order (a promise queue), so the listener sees the steps in a
 * consistent order and the sequence is checked against settled state. A step is answered 200 only
 * after the listener's promise resolved (durable before acknowledged); when the listener rejects,
 * the answer is 500 and the step is not marked seen, so a retry can succeed.
 *
 * One exception to "one at a time": consecutive task-status calls are handed to the listener
 * one after the other without waiting for the previous one to be stored, so that the store can
 * write a component's queued reports in one transaction (issue 15: one task alone reaches the
 * callback target). They cannot change the sequence for each other (a status needs task-start,
 * and neither task-result nor component-stop may have been accepted; only a non-status call
 * changes that), and every other call waits until each status handed over has been answered. The
 * listener still sees them in arrival order, and each is answered only once it is stored.
 */
export class ContractSession {
  readonly tokenHash: string;
  readonly taskRunId: string;
  readonly runId: string;
  /** the event data served at `/data`, serialized once */
  readonly eventDataJson: string;
  readonly #options: SessionOptions;
  readonly #seen = new Set<ContractStep>();
  #result: ResultBody | undefined;
  #endedState: string | undefined;
  /** settles when the latest call may be followed: answered, or for a task-status handed over */
  #queue: Promise<unknown> = Promise.resolve();
  /** the answers of the task-status calls handed to the listener and not yet answered */
  readonly #statuses = new Set<Promise<CallbackAnswer>>();

  constructor(tokenHash: string, options: SessionOptions) {
    this.tokenHash = tokenHash;
    this.taskRunId = options.taskRunId;
    this.runId = options.runId;
    this.eventDataJson = JSON.stringify(options.eventData);
    this.#options = options;
    for (const step of options.restored?.seen ?? []) this.#seen.add(step);
    this.#result = options.restored?.result;
  }

  /** The steps accepted so far (task-status once at least one was accepted). */
  get seen(): ReadonlySet<ContractStep> {
    return this.#seen;
  }

  /** The accepted TASK_RESULT body, if any. */
  get result(): ResultBody | undefined {
    return this.#result;
  }

  /** Has the engine ended this session (`end`)? */
  get isEnded(): boolean {
    return this.#endedState !== undefined;
  }

  /** The state given to `end`, if ended. */
  get endedState(): string | undefined {
    return this.#endedState;
  }

  /**
   * The task run has ended in `state`: every later call is answered 409 naming it. Calls already
   * being processed finish normally; `settled()` waits for them. The first call wins.
   */
  end(state: string): void {
    this.#endedState ??= state;
  }

  /**
   * The task run ends in `state` after all: its end, decided after `end`, was decided again once
   * steps that another replica recorded meanwhile were taken in (`absorb`).
   */
  endAgain(state: string): void {
    if (this.#endedState !== undefined) this.#endedState = state;
  }

  /**
   * Take in the steps (and the result) that the store holds for this task run but this session
   * has not seen: callbacks applied through the store by another replica (service/
   * store-callbacks.ts). In the call queue, so after the calls under way. The listener's
   * `onAbsorbed` is told of each step new to this session, in contract order, to act on it
   * (tear down after component-stop, push the event data after component-start).
   */
  absorb(stored: { readonly seen: readonly ContractStep[]; readonly result?: ResultBody }): Promise<void> {
    return this.#enqueue(async () => {
      const fresh = CONTRACT_STEPS.filter((step) => stored.seen.includes(step) && !this.#seen.has(step));
      for (const step of fresh) this.#seen.add(step);
      if (this.#result === undefined && stored.result !== undefined) this.#result = stored.result;
      for (const step of fresh) {
        try {
          this.#options.listener.onAbsorbed?.(step);
        } catch {
          // a listener's failure is its own
        }
      }
      return OK;
    }).then(() => undefined);
  }

  /** Resolves when every call received so far has been answered. Never rejects. */
  settled(): Promise<void> {
    return this.#queue.then(() => this.#statusesAnswered()).then(() => undefined);
  }

  /**
   * Process one POST callback with its raw body (any content type; empty is `{}`). A malformed
   * body is answered 400 at once; everything else waits its turn in the queue.
   */
  submit(step: CallbackStep, rawBody: string | undefined): Promise<CallbackAnswer> {
    if (step === 'cdevent') return this.#submitCdevent(rawBody);
    const validate =
      step === 'task-status'
        ? (this.#options.validateStatusOutput ?? this.#options.validateOutput)
        : this.#options.validateOutput;
    const parsed = parseStepBody(step, rawBody, validate);
    if (!parsed.ok) return Promise.resolve(this.#refused(step, badBody(parsed.message)));
    if (parsed.value.step === 'task-status') return this.#enqueueStatus(parsed.value);
    return this.#enqueue(async () => this.#refused(step, await this.#accept(parsed.value)));
  }

  /** The answer to `GET /data`: the event data JSON, or 409 once ended. */
  data(): { readonly status: 200; readonly json: string } | CallbackAnswer {
    if (this.#endedState !== undefined) return this.#endedAnswer('data');
    return { status: 200, json: this.eventDataJson };
  }

  /**
   * Check `accepted` against the sequence and hand it to the listener: the promise of its answer.
   * The check and the hand-over happen before this returns (a task-status's next call may follow
   * at once); the answer settles once the listener has stored it. Never rejects.
   */
  #accept(accepted: AcceptedStep): Promise<CallbackAnswer> {
    const decision = checkSequence({ seen: this.#seen, result: this.#result, endedState: this.#endedState }, accepted);
    if (decision.kind === 'repeat') return Promise.resolve(OK);
    if (decision.kind === 'reject') {
      return Promise.resolve({
        status: 409,
        body: { ok: false, code: decision.code, message: decision.message, state: decision.state },
      });
    }
    let stored: Promise<void>;
    try {
      stored = this.#options.listener.onStep(accepted, Date.now());
    } catch {
      return Promise.resolve(internal(accepted.step));
    }
    return stored.then(
      () => {
        this.#seen.add(accepted.step);
        if (accepted.step === 'task-result') this.#result = accepted.body;
        return OK;
      },
      () => internal(accepted.step),
    );
  }

  /** Tell the listener about a refused call (400/409), then pass the answer on. */
  #refused(step: CallbackStep, answer: CallbackAnswer): CallbackAnswer {
    if ((answer.status === 400 || answer.status === 409) && !answer.body.ok) {
      try {
        this.#options.listener.onRefused?.(step, answer.status, answer.body.code, answer.body.message, Date.now());
      } catch {
        // a report hook must not break the contract
      }
    }
    return answer;
  }

  #submitCdevent(rawBody: string | undefined): Promise<CallbackAnswer> {
    const parsed = parseJsonObject(rawBody);
    if (!parsed.ok) return Promise.resolve(badBody(parsed.message));
    const onCdevent = this.#options.listener.onCdevent?.bind(this.#options.listener);
    return this.#enqueue(async () => {
      if (this.#endedState !== undefined) return this.#endedAnswer('cdevent');
      if (onCdevent === undefined) {
        return {
          status: 404,
          body: { ok: false, code: 'NOT_SUPPORTED', message: 'this engine does not accept CDEvents from components' },
        };
      }
      let refused: string | undefined;
      try {
        refused = await onCdevent(parsed.value, Date.now());
      } catch {
        return internal('cdevent');
      }
      return refused === undefined ? OK : badBody(refused);
    });
  }

  #endedAnswer(what: string): CallbackAnswer {
    const state = this.#endedState ?? contractState(this.#seen);
    return {
      status: 409,
      body: {
        ok: false,
        code: 'TASK_RUN_ENDED',
        message: `${what} refused: the task run has already ended (${state}); no callback is accepted after that`,
        state,
      },
    };
  }

  #enqueue(work: () => Promise<CallbackAnswer>): Promise<CallbackAnswer> {
    // Each call starts when the previous one has answered, and so has every task-status handed
    // over before it; `work` never rejects, so neither does the chain.
    const answer = this.#queue.then(() => this.#statusesAnswered()).then(work);
    this.#queue = answer;
    return answer;
  }

  /**
   * A task-status waits only until the call before it was handed over (or answered), then is
   * checked and handed to the listener; the next call may follow at once (see the class comment).
   */
  #enqueueStatus(accepted: AcceptedStep): Promise<CallbackAnswer> {
    let answer: Promise<CallbackAnswer> = Promise.resolve(OK);
    const handedOver = this.#queue.then(() => {
      answer = this.#accept(accepted).then((reply) => this.#refused(accepted.step, reply));
      this.#statuses.add(answer);
      void answer.then(() => this.#statuses.delete(answer));
    });
    this.#queue = handedOver;
    return handedOver.then(() => answer);
  }

  /** Settles once every task-status handed over so far has been answered (at once if none is). */
  #statusesAnswered(): Promise<unknown> | undefined {
    return this.#statuses.size === 0 ? undefined : Promise.all(this.#statuses);
  }
}

function badBody(message: string): CallbackAnswer {
  return { status: 400, body: { ok: false, code: 'BAD_BODY', message } };
}

function internal(step: CallbackStep): CallbackAnswer {
  return {
    status: 500,
    body: { ok: false, code: 'INTERNAL', message: `the engine could not record ${step}; retry the call` },
  };
}
