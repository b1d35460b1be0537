import type { Plan } from './types.js';

/** An action as a live view draws it. */
export interface OutlineAction {
  readonly name: string;
  /** it has a matrix: its task runs are named `name (v1, v2)` and carry `matrix.action: name` */
  readonly matrix: boolean;
  /** the workflow it calls as a child run (`uses:` as written), or null */
  readonly uses: string | null;
}

/** A stage as a live view draws it. */
export interface OutlineStage {
  readonly name: string;
  readonly type: 'actions' | 'approval';
  /** a finally stage: it runs after the others, however they ended */
  readonly finally: boolean;
  /** an approval stage shows as one action named after the stage */
  readonly actions: readonly OutlineAction[];
}

/**
 * The stages (then the finally stages) of a plan and their actions, in order: what the CLI's
 * live view and the API's run outline show. Tolerates a partial plan (a stored run's JSON).
 */
export function planOutline(plan: Partial<Pick<Plan, 'stages' | 'finally'>> | null | undefined): OutlineStage[] {
  const outline = (finallyStage: boolean) => (stage: Plan['stages'][number]) => ({
    name: stage.name,
    type: stage.type,
    finally: finallyStage,
    actions:
      stage.type === 'approval'
        ? [{ name: stage.name, matrix: false, uses: null }]
        : stage.actions.map((a) => ({ name: a.name, matrix: a.matrix !== undefined, uses: a.uses?.ref ?? null })),
  });
  return [...(plan?.stages ?? []).map(outline(false)), ...(plan?.finally ?? []).map(outline(true))];
}
