/**
 * The calls of the component contract, named after their environment variables (without `CO_`).
 * `DATA` is the `GET` of `CO_DATA_URL`; the other five are `POST`s, in this order.
 */
export type ContractStep = 'COMPONENT_START' | 'TASK_START' | 'TASK_STATUS' | 'TASK_RESULT' | 'COMPONENT_STOP' | 'DATA';

/** The five callback steps in contract order. */
export const CALLBACK_STEPS = [
  'COMPONENT_START',
  'TASK_START',
  'TASK_STATUS',
  'TASK_RESULT',
  'COMPONENT_STOP',
] as const satisfies readonly ContractStep[];
