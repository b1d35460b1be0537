import type { Command } from 'commander';

/** A top-level command as `pilotage --help` lists it, before its module is loaded. */
export interface CommandStub {
  readonly name: string;
  /** what the help lists after the name (`[options] <workflow>`): commander's own term for it */
  readonly term: string;
  readonly description: string;
}

/** A module of top-level commands: their stubs, and how to load and register them for real. */
export interface CommandModule {
  readonly commands: readonly CommandStub[];
  readonly load: () => Promise<(program: Command) => void>;
}

/**
 * Every top-level command, in help order. A command's module (and everything it imports: the
 * store, the server, the Docker client…) is loaded only when that command runs; the others stay
 * stubs that only name and describe themselves. The stubs repeat the modules' descriptions and
 * terms: cli/program.test.ts fails when they differ.
 */
export const COMMAND_MODULES: readonly CommandModule[] = [
  {
    commands: [
      {
        name: 'run',
        term: 'run [options] <workflow>',
        description:
          'run a workflow locally (embedded store, live progress; exit code = result), or on a server with --server',
      },
    ],
    load: async () => (await import('./commands/run.js')).registerRun,
  },
  {
    commands: [
      {
        name: 'validate',
        term: 'validate [options] <files...>',
        description: 'check workflow and component files (every problem with file, line, column and field)',
      },
    ],
    load: async () => (await import('./commands/validate.js')).registerValidate,
  },
  {
    commands: [
      {
        name: 'schema',
        term: 'schema <kind>',
        description: 'print the JSON Schema of workflow or component files (for editors)',
      },
    ],
    load: async () => (await import('./commands/schema.js')).registerSchema,
  },
  {
    commands: [{ name: 'component', term: 'component', description: 'work with components' }],
    load: async () => (await import('./commands/component.js')).registerComponent,
  },
  {
    commands: [
      { name: 'runs', term: 'runs', description: 'inspect, cancel and rerun runs (local store, or a server)' },
    ],
    load: async () => (await import('./commands/runs.js')).registerRuns,
  },
  {
    commands: [{ name: 'events', term: 'events', description: 'CDEvents emitted by runs, and their delivery' }],
    load: async () => (await import('./commands/events.js')).registerEvents,
  },
  {
    commands: [
      {
        name: 'serve',
        term: 'serve [options]',
        description: 'serve the REST API, live updates and component callbacks (SQLite store by default)',
      },
    ],
    load: async () => (await import('./commands/serve.js')).registerServe,
  },
  {
    commands: [
      { name: 'db', term: 'db', description: 'the store: its schema (migrations) and the replicas sharing it' },
    ],
    load: async () => (await import('./commands/db.js')).registerDb,
  },
  {
    commands: [{ name: 'token', term: 'token', description: 'API tokens of the server (stored hashed)' }],
    load: async () => (await import('./commands/token.js')).registerToken,
  },
  {
    commands: [{ name: 'workflow', term: 'workflow', description: 'workflows stored on a server' }],
    load: async () => (await import('./commands/workflow.js')).registerWorkflow,
  },
  {
    commands: [
      { name: 'secret', term: 'secret', description: "the server's secrets (encrypted at rest, masked in every log)" },
    ],
    load: async () => (await import('./commands/secret.js')).registerSecret,
  },
  {
    commands: [
      {
        name: 'approve',
        term: 'approve [options] <run> <stage>',
        description: "approve a run's approval stage that waits for a decision (local store, or a server)",
      },
      {
        name: 'reject',
        term: 'reject [options] <run> <stage>',
        description: "reject a run's approval stage that waits for a decision (local store, or a server)",
      },
    ],
    load: async () => (await import('./commands/approve.js')).registerApprove,
  },
  {
    commands: [{ name: 'cache', term: 'cache', description: 'the action result cache (cache: on actions)' }],
    load: async () => (await import('./commands/cache.js')).registerCache,
  },
  {
    commands: [
      {
        name: 'completion',
        term: 'completion <shell>',
        description: 'print the shell completion script (commands, flags, workflow and component names, run ids)',
      },
      // hidden: called by the completion scripts
      { name: '__complete', term: '', description: '' },
    ],
    load: async () => (await import('./commands/completion.js')).registerCompletion,
  },
];
