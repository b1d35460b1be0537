import type { TaskRunState } from '../domain/states.js';
import type { JsonObject, JsonValue } from '../domain/vocabulary.js';
import type { Combination } from '../plan/matrix.js';
import { renderTemplate } from '../plan/render.js';
import type { ExpressionContext, PlanAction, RunStatus, Template } from '../plan/types.js';
import type { RunRecord } from '../store/types.js';

/** What an action ended as, for later expressions (`actions.<name>.outputs|status`). */
export interface ActionResult {
  readonly status: TaskRunState;
  /** an object; for a matrix action the list of its combinations' outputs */
  readonly outputs: JsonValue;
}

/**
 * What a run's expressions see, kept as the run goes: its inputs (unmasked), the results of its
 * actions, its rendered workflow env and its secrets. The context is built once per change of
 * results or run status, and shared by every template rendered in between (the task runs of one
 * matrix differ only in `matrix`), so rendering stays cheap for wide fan-outs.
 */
export class RunExpressions {
  private readonly results = new Map<string, ActionResult>();
  private workflowEnv: Record<string, string> = {};
  private version = 0;
  private cached: { readonly key: string; readonly context: ExpressionContext } | undefined;

  constructor(
    private readonly run: () => Pick<RunRecord, 'id' | 'number' | 'workflow'>,
    private readonly inputs: JsonObject,
    private readonly secrets: Readonly<Record<string, string>>,
  ) {}

  /** Render the workflow's `env:` (once, when the run starts); every action gets it. */
  renderWorkflowEnv(env: Readonly<Record<string, Template>>, status: RunStatus): void {
    this.workflowEnv = renderEnv(env, this.context(status));
    this.version += 1;
  }

  /** Keep what an action ended as. */
  setResult(name: string, result: ActionResult): void {
    this.results.set(name, result);
    this.version += 1;
  }

  /** The expression context now, with `run.status` = `status` (and `matrix` for a combination). */
  context(status: RunStatus, matrix?: Combination): ExpressionContext {
    const key = `${this.version}:${status}`;
    if (this.cached?.key !== key) {
      const actions: Record<string, { outputs: JsonValue; status: string }> = {};
      for (const [name, result] of this.results) actions[name] = { outputs: result.outputs, status: result.status };
      const run = this.run();
      const context: ExpressionContext = {
        inputs: this.inputs,
        actions,
        run: { id: run.id, number: run.number, workflow: run.workflow, status },
        env: this.workflowEnv,
        secrets: this.secrets,
      };
      this.cached = { key, context };
    }
    return matrix === undefined ? this.cached.context : { ...this.cached.context, matrix };
  }

  /**
   * The action's event data and env, rendered now (after the actions it reads have ended); the
   * event data is the error when rendering failed.
   */
  prepare(
    action: PlanAction,
    status: RunStatus,
    matrix?: Combination,
  ): { eventData: JsonValue | Error; env: Record<string, string> } {
    try {
      const context = this.context(status, matrix);
      return {
        eventData: renderTemplate(action.with, context),
        env: { ...this.workflowEnv, ...renderEnv(action.env, context) },
      };
    } catch (error) {
      return { eventData: error instanceof Error ? error : new Error(String(error)), env: {} };
    }
  }

  /** The run's declared outputs, rendered over every action's results. Throws when one cannot be. */
  outputs(templates: Readonly<Record<string, Template>>, status: RunStatus): JsonObject {
    const context = this.context(status);
    const outputs: JsonObject = {};
    for (const [name, template] of Object.entries(templates)) outputs[name] = renderTemplate(template, context);
    return outputs;
  }
}

function renderEnv(env: Readonly<Record<string, Template>>, ctx: ExpressionContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, template] of Object.entries(env)) {
    const value = renderTemplate(template, ctx);
    out[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}
