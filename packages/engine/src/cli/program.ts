import { Command, Help } from 'commander';
import { COMMAND_MODULES, type CommandStub } from './command-list.js';
import { ENGINE_VERSION } from '../version.js';
import { addHelpExamples } from './help-examples.js';

/** The CLI's version, as `pilotage --version` prints it. */
export const CLI_VERSION = ENGINE_VERSION;

/**
 * The `pilotage` program: every top-level command, with its options and help examples; nothing is
 * parsed or run. `registered` says which commands are registered for real: the one about to run
 * (its module alone is loaded), none (undefined: `pilotage --version`, `pilotage --help`), or
 * `'all'` (tests walk the whole tree). The others are stubs that name and describe themselves,
 * enough for `pilotage --help`; so a command loads what it uses and nothing else.
 */
export async function buildProgram(registered: string | undefined): Promise<Command> {
  const stubs = new WeakMap<Command, string>();
  const help = new Help();
  const program = new Command()
    .name('pilotage')
    .description('Pilotage: container-native DevOps workflows (components with a five-callback contract)')
    .version(CLI_VERSION)
    // read by terminal.ts wherever it stands; listed here for the help
    .option('--no-color', 'no colours in the output (also NO_COLOR=1; colour is only ever used on a terminal)')
    // program options only before the command, so `workflow show NAME --version N` is the command's
    .enablePositionalOptions()
    .showHelpAfterError()
    .configureHelp({ subcommandTerm: (command) => stubs.get(command) ?? help.subcommandTerm(command) });

  for (const module of COMMAND_MODULES) {
    if (registered === 'all' || module.commands.some((c) => c.name === registered)) {
      (await module.load())(program);
    } else {
      for (const stub of module.commands) addStub(program, stub, stubs);
    }
  }
  addHelpExamples(program);
  return program;
}

/**
 * The command that `args` (the arguments after `pilotage`) run: the first word that is not an
 * option of the program (none of which takes a value), or the one after `help`. Undefined for
 * `pilotage --version`, `pilotage --help` and no arguments.
 */
export function invokedCommand(args: readonly string[]): string | undefined {
  const words = args.filter((arg) => !arg.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

function addStub(program: Command, stub: CommandStub, stubs: WeakMap<Command, string>): void {
  if (stub.term === '') return; // hidden
  const command = program.command(stub.name).description(stub.description);
  stubs.set(command, stub.term);
}
