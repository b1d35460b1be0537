/** Types of generate-sqlite-schema.mjs, for the test that imports it. */
import type { SchemaSnapshot } from '../packages/engine/src/store/sqlite/fresh-schema.js';
/** The generated module's path (packages/engine/src/store/sqlite/fresh-schema.generated.ts). */
export declare const GENERATED_FILE: string;
/** The text of the generated module for `snapshot`. */
export declare function generatedText(snapshot: SchemaSnapshot): string;
/** The snapshot of a new in-memory database migrated one migration at a time. */
export declare function migratedSnapshot(): Promise<SchemaSnapshot>;
