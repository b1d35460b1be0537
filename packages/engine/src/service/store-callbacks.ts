import { messageOf } from '../domain/errors.js';
import { Masker } from '../domain/masker.js';
import { isTaskEnded } from '../domain/states.js';
import type { JsonObject, JsonValue } from '../domain/vocabulary.js';
import { eventDataSealId, type InputSeal, type RunEventBuilder } from '../engine/ports.js';
import { compileSchema } from '../plan/schema.js';
import type { Plan } from '../plan/types.js';
import { parseJsonObject, parseStepBody, type CallbackStep } from '../protocol/body.js';
import type { RemoteCallbacks } from '../protocol/registry.js';
import { checkSequence } from '../protocol/sequence.js';
import type { CallbackAnswer } from '../protocol/session.js';
import type { AcceptedStep, ContractStep } from '../protocol/types.js';
import type { RunRecord, Store, TaskRunRecord } from '../store/types.js';

/** What `createStoreCallbacks` needs. */
export interface StoreCallbacksDeps {
  readonly store: Store;
  /** the secrets a run of `workflow` reads (to mask what components report) */
  readonly secretsFor: (workflow: string) => Promise<Readonly<Record<string, string>>>;
  /** the engine's own secrets, masked too */
  readonly globalSecrets: Readonly<Record<string, string>>;
  /** builds component-reported CDEvents */
  readonly events: RunEventBuilder;
  /** opens event data the run's holder stored sealed (it held a secret) */
  readonly seal?: InputSeal;
  /** outbox rows were written (wakes the delivery worker) */
  readonly eventsWritten: () => void;
  readonly clock?: () => number;
}

const OK: CallbackAnswer = { status: 200, body: { ok: true } };

/**
 * Component callbacks that reach a replica that does not carry the run (components behind a
 * load balancer, or a run that changed hands): they are applied through the store rather than
 * forwarded, so they work whichever replica is alive, and need no network between replicas. The
 * task run is found by its token hash; the contract's sequence is checked against the steps and
 * the result the store holds; the step is recorded as the holder would record it (outputs and
 * messages masked with the run's secrets, the output checked against the component's schema),
 * and a `callback` change tells the holder, whose session absorbs it (protocol/session.ts). A
 * run nobody carries right now keeps the step for its next holder. Answers undefined for a token
 * whose task run is unknown or ended (the routes then answer 404 or 409 as for any token).
 *
 * Two calls of one task run sent at once to two replicas are each checked against what the
 * store held when they arrived; components call in sequence, so this only matters for a
 * component that does not.
 */
export function createStoreCallbacks(deps: StoreCallbacksDeps): RemoteCallbacks {
  const { store } = deps;
  const clock = deps.clock ?? Date.now;
  const validators = new Map<string, ((output: JsonObject) => string | undefined) | undefined>();

  /** The live task run of a token hash, and its run, or undefined. */
  const live = async (tokenHash: string): Promise<{ task: TaskRunRecord; run: RunRecord } | undefined> => {
    const task = await store.taskRuns.getByTokenHash(tokenHash);
    if (task === undefined || isTaskEnded(task.state) || task.state === 'pending') return undefined;
    const run = await store.runs.get(task.runId);
    return run === undefined ? undefined : { task, run };
  };

  const maskerOf = async (run: RunRecord): Promise<Masker> => {
    let secrets: Readonly<Record<string, string>> = {};
    try {
      secrets = await deps.secretsFor(run.workflow);
    } catch {
      // masked with what is known; the holder masks again what it stores from its own session
    }
    return new Masker(Object.values({ ...deps.globalSecrets, ...secrets }));
  };

  /** The component's outputs check (cached per run and action). */
  const validatorOf = (
    run: RunRecord,
    task: TaskRunRecord,
  ): ((output: JsonObject) => string | undefined) | undefined => {
    const key = `${run.id}/${task.action}`;
    if (validators.has(key)) return validators.get(key);
    const plan = run.plan as unknown as Plan;
    const planAction = (task as { matrix?: { action?: string } | null }).matrix?.action ?? task.action;
    const action = plan.stages.flatMap((s) => s.actions).find((a) => a.name === planAction);
    const outputs = action?.component.outputs;
    const validate = outputs === undefined ? undefined : compileSchema(outputs);
    if (validators.size > 1000) validators.clear();
    validators.set(key, validate);
    return validate;
  };

  // published without an origin: live streams on this replica too read them (the engine here
  // emitted nothing for them)
  const told = (task: TaskRunRecord): void => {
    store.changes.publish({ kind: 'callback', runId: task.runId, taskRunId: task.id });
  };

  const apply = async (task: TaskRunRecord, run: RunRecord, accepted: AcceptedStep): Promise<void> => {
    const at = clock();
    const masker = await maskerOf(run);
    switch (accepted.step) {
      case 'task-status': {
        const { body } = accepted;
        const status = await store.statuses.record(task.id, {
          at,
          message: body.message === undefined ? null : masker.text(body.message),
          progress: body.progress ?? null,
          output: body.output === undefined ? null : masker.json(body.output),
        });
        // one past the status caps is not stored: live views read the task run's latest message
        store.changes.publish({ kind: status.dropped ? 'callback' : 'status', runId: run.id, taskRunId: task.id });
        return;
      }
      case 'task-result': {
        const { body } = accepted;
        await store.taskRuns.update(
          task.id,
          {
            result: body.status,
            output: masker.json({ ...task.output, ...(body.output ?? {}) }),
            ...(body.message === undefined ? {} : { message: masker.text(body.message) }),
          },
          { step: 'task-result', at },
        );
        return;
      }
      default:
        await store.taskRuns.markStep(task.id, accepted.step, at);
    }
  };

  return {
    async submit(
      tokenHash: string,
      step: CallbackStep,
      rawBody: string | undefined,
    ): Promise<CallbackAnswer | undefined> {
      const found = await live(tokenHash);
      if (found === undefined) return undefined;
      const { task, run } = found;
      if (step === 'cdevent') return cdevent(task, run, rawBody);
      const parsed = parseStepBody(step, rawBody, validatorOf(run, task));
      if (!parsed.ok) return { status: 400, body: { ok: false, code: 'BAD_BODY', message: parsed.message } };
      // a repeated task-result is compared by its status: the store holds its output merged and masked
      if (parsed.value.step === 'task-result' && task.result !== null) {
        if (parsed.value.body.status === task.result) return OK;
        return {
          status: 409,
          body: {
            ok: false,
            code: 'RESULT_CONFLICT',
            message:
              'task-result refused: a different task-result was already accepted; a task reports its result once',
          },
        };
      }
      const decision = checkSequence({ seen: new Set(Object.keys(task.steps) as ContractStep[]) }, parsed.value);
      if (decision.kind === 'repeat') return OK;
      if (decision.kind === 'reject') {
        return {
          status: 409,
          body: { ok: false, code: decision.code, message: decision.message, state: decision.state },
        };
      }
      try {
        await apply(task, run, parsed.value);
      } catch (error) {
        return {
          status: 500,
          body: {
            ok: false,
            code: 'INTERNAL',
            message: `the engine could not record ${step} (${messageOf(error)}); retry the call`,
          },
        };
      }
      told(task);
      return OK;
    },

    async data(tokenHash: string): Promise<{ readonly status: 200; readonly json: string } | undefined> {
      const found = await live(tokenHash);
      if (found === undefined) return undefined;
      const { task } = found;
      let data: JsonValue = task.eventData;
      const sealed = await store.taskRuns.sealedEventData(task.id);
      if (sealed !== undefined && deps.seal !== undefined) {
        try {
          data = (deps.seal.open(eventDataSealId(task.id), sealed) as { data: JsonValue }).data;
        } catch {
          // served masked: the holder's key differs (replicas need the same encryption key)
        }
      }
      return { status: 200, json: JSON.stringify(data) };
    },
  };

  async function cdevent(task: TaskRunRecord, run: RunRecord, rawBody: string | undefined): Promise<CallbackAnswer> {
    const parsed = parseJsonObject(rawBody);
    if (!parsed.ok) return { status: 400, body: { ok: false, code: 'BAD_BODY', message: parsed.message } };
    const build = deps.events.componentEvent;
    if (build === undefined) {
      return {
        status: 404,
        body: { ok: false, code: 'NOT_SUPPORTED', message: 'this engine does not accept CDEvents from components' },
      };
    }
    const masker = await maskerOf(run);
    // built from the run's events in the store, as its holder builds it: same source, same links
    const written = await store.outbox.listByRun(run.id);
    const built = build(run, task, masker.json(parsed.value), clock(), written);
    if (typeof built === 'string') return { status: 400, body: { ok: false, code: 'BAD_BODY', message: built } };
    await store.outbox.append([built]);
    deps.eventsWritten();
    return OK;
  }
}
