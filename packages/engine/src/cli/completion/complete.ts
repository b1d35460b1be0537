import type { Command, Option } from 'commander';
import { RUN_STATES } from '../../domain/states.js';
import { commandPath } from '../help-examples.js';

/** One candidate, with what zsh and fish show beside it. */
export interface Candidate {
  readonly value: string;
  readonly description?: string;
}

/**
 * What the shell should offer for the word under the cursor: these values, or its own completion
 * of file names (those ending in one of `extensions`, and directories; any file when empty), or
 * of directories.
 */
export type Completion =
  | { readonly kind: 'values'; readonly values: readonly Candidate[] }
  | { readonly kind: 'files'; readonly extensions: readonly string[] }
  | { readonly kind: 'dirs' };

/** Where the candidates that are not fixed come from: a server, or the local store. */
export interface CompletionSources {
  /** names of the workflows stored on the server */
  workflows(target: Target): Promise<readonly Candidate[]>;
  /** `name@version` of the components registered on the server */
  components(target: Target): Promise<readonly Candidate[]>;
  /** recent runs' ids, on the server when one is meant, else in the local store */
  runs(target: Target): Promise<readonly Candidate[]>;
}

/** What the words typed so far say about where to look: `--server`, `--token`, `--db`. */
export interface Target {
  readonly server?: string;
  readonly token?: string;
  readonly db?: string;
}

type Values = (target: Target, sources: CompletionSources) => Completion | Promise<Completion>;

const fixed =
  (...values: string[]): Values =>
  () => ({ kind: 'values', values: values.map((value) => ({ value })) });
const files =
  (...extensions: string[]): Values =>
  () => ({ kind: 'files', extensions });
const dirs: Values = () => ({ kind: 'dirs' });
const fromSource =
  (pick: (sources: CompletionSources, target: Target) => Promise<readonly Candidate[]>): Values =>
  async (target, sources) => ({ kind: 'values', values: await pick(sources, target) });
const workflowNames = fromSource((s, t) => s.workflows(t));
const componentRefs = fromSource((s, t) => s.components(t));
const runIds = fromSource((s, t) => s.runs(t));
const WORKFLOW_FILES = files('yaml', 'yml', 'json');

/** Values of options that take one, by long flag; `command path:flag` where commands differ. */
const OPTION_VALUES: Readonly<Record<string, Values>> = {
  '--executor': fixed('local', 'docker', 'kubernetes', 'auto'),
  '--lang': fixed('sh', 'node', 'python'),
  '--log-level': fixed('trace', 'debug', 'info', 'warn', 'error'),
  '--scope': fixed('read', 'run', 'admin'),
  '--from': fixed('failed', 'start'),
  '--trigger': fixed('manual', 'cli', 'webhook', 'cdevent', 'cron', 'rerun'),
  '--state': fixed(...RUN_STATES),
  'events list:--state': fixed('pending', 'delivered', 'dead'),
  '--workflow': workflowNames,
  '--db': files(),
  '--config': WORKFLOW_FILES,
  '--dir': dirs,
  '--events': fixed('stdout'),
};

/** Values of positional arguments, by command path (the same for every position unless a list). */
const ARGUMENT_VALUES: Readonly<Record<string, Values | readonly Values[]>> = {
  run: (target, sources) =>
    target.server !== undefined ? workflowNames(target, sources) : WORKFLOW_FILES(target, sources),
  validate: WORKFLOW_FILES,
  schema: fixed('workflow', 'component'),
  completion: fixed('bash', 'zsh', 'fish'),
  'component test': WORKFLOW_FILES,
  'component build': dirs,
  'component register': WORKFLOW_FILES,
  'component show': componentRefs,
  'component deprecate': componentRefs,
  'workflow apply': WORKFLOW_FILES,
  'workflow show': workflowNames,
  'workflow diff': [workflowNames],
  'workflow enable': workflowNames,
  'workflow disable': workflowNames,
  'runs show': runIds,
  'runs logs': runIds,
  'runs cancel': runIds,
  'runs retry': runIds,
  approve: [runIds],
  reject: [runIds],
};

const NOTHING: Completion = { kind: 'values', values: [] };

/**
 * What to offer for the last of `words` (the command line after `pilotage`, the last word being
 * the one under the cursor, possibly empty), walking `program`'s commands and options as
 * commander would parse them: subcommand names, the current command's flags (after `-`), an
 * option's values, or a positional argument's. `configuredServer` is the server a command uses
 * when no `--server` is typed (PILOTAGE_SERVER or the config file); `--db` typed means the local
 * store, as with-server.ts `serverGiven` rules. Values are filtered by the word's prefix.
 */
export async function complete(
  program: Command,
  words: readonly string[],
  sources: CompletionSources,
  configuredServer?: string,
): Promise<Completion> {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  let command = program;
  let positionals = 0;
  let pending: { option: Option; command: Command } | undefined;
  const typed: Record<string, string> = {};
  for (const word of before) {
    if (pending !== undefined) {
      typed[pending.option.long ?? ''] = word;
      pending = undefined;
    } else if (word === '--') {
      break;
    } else if (word.startsWith('-') && word.length > 1) {
      const [flag, inline] = word.split(/=(.*)/s, 2) as [string, string | undefined];
      const option = findOption(command, flag);
      if (option !== undefined && takesValue(option)) {
        if (inline === undefined) pending = { option, command };
        else typed[option.long ?? ''] = inline;
      }
    } else {
      const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
      if (sub !== undefined && positionals === 0) command = sub;
      else positionals += 1;
    }
  }
  const target: Target = {
    ...(typed['--token'] === undefined ? {} : { token: typed['--token'] }),
    ...(typed['--db'] === undefined ? {} : { db: typed['--db'] }),
    ...(typed['--server'] !== undefined
      ? { server: typed['--server'] }
      : typed['--db'] === undefined && configuredServer !== undefined
        ? { server: configuredServer }
        : {}),
  };
  const path = commandPath(command);

  let completion: Completion;
  if (pending !== undefined) {
    const long = pending.option.long ?? '';
    const values = OPTION_VALUES[`${path}:${long}`] ?? OPTION_VALUES[long];
    completion = values === undefined ? NOTHING : await values(target, sources);
  } else if (current.startsWith('-')) {
    completion = { kind: 'values', values: flagsOf(command) };
  } else if (visibleCommands(command).length > 0 && positionals === 0) {
    completion = {
      kind: 'values',
      values: visibleCommands(command).map((c) => ({ value: c.name(), description: c.description() })),
    };
  } else {
    const spec = ARGUMENT_VALUES[path];
    const values = Array.isArray(spec) ? (spec as readonly Values[])[positionals] : (spec as Values | undefined);
    completion = values === undefined ? NOTHING : await values(target, sources);
  }
  return completion.kind === 'values'
    ? { kind: 'values', values: completion.values.filter((c) => c.value.startsWith(current)) }
    : completion;
}

function visibleCommands(command: Command): Command[] {
  return command.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
}

function findOption(command: Command, flag: string): Option | undefined {
  return command.options.find((o) => o.long === flag || o.short === flag);
}

function takesValue(option: Option): boolean {
  return option.required || option.optional;
}

/** The long flags of `command` (its help flag included), with their help text. */
function flagsOf(command: Command): Candidate[] {
  const flags: Candidate[] = command.options
    .filter((o) => o.long !== undefined && !o.hidden)
    .map((o) => ({ value: o.long!, description: o.description }));
  return [...flags, { value: '--help', description: 'display help for command' }];
}
