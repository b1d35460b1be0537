import type { Command } from 'commander';
import { componentJsonSchema, workflowJsonSchema } from '../../plan/json-schemas.js';
import { EXIT } from '../output.js';

/** `pilotage schema workflow|component`: print the published JSON Schema. */
export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of workflow or component files (for editors)')
    .argument('<kind>', 'workflow or component')
    .action((kind: string) => {
      const schema = kind === 'workflow' ? workflowJsonSchema : kind === 'component' ? componentJsonSchema : undefined;
      if (!schema) {
        process.stderr.write(`error: unknown schema "${kind}": expected workflow or component\n`);
        process.exitCode = EXIT.usage;
        return;
      }
      process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    });
}
