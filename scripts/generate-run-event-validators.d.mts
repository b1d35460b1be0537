/** Types of generate-run-event-validators.mjs, for the test that imports it. */
/** The generated module's path (packages/engine/src/events/run-event-validators.generated.ts). */
export declare const GENERATED_FILE: string;
/** The text of the generated module (deterministic for the same schemas and Ajv version). */
export declare function generateRunEventValidators(): string;
