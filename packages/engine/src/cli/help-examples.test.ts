import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from 'commander';
import { commandPath } from './help-examples.js';
import { buildProgram } from './program.js';

/** Every visible command, the program included. */
function commands(root: Command): Command[] {
  const visible = root.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
  return [root, ...visible.flatMap(commands)];
}

test("every command's --help ends with examples of that command", async () => {
  const all = commands(await buildProgram('all'));
  assert.ok(all.length > 40, `${all.length} commands`);
  for (const command of all) {
    let help = '';
    command.configureOutput({ writeOut: (text) => (help += text) });
    command.outputHelp();
    const path = commandPath(command);
    const examples = help.slice(help.indexOf('\nExamples:\n'));
    assert.ok(help.includes('\nExamples:\n'), `pilotage ${path} --help has no examples`);
    const lines = examples.split('\n').filter((line) => line.startsWith('  $ '));
    assert.ok(lines.length > 0, path);
    if (path !== '') {
      for (const line of lines) {
        assert.ok(
          line.includes(`pilotage ${path}`) || command.commands.length > 0,
          `an example of "${path}" runs another command: ${line}`,
        );
      }
    }
  }
});
