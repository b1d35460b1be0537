import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Help } from 'commander';
import { COMMAND_MODULES } from './command-list.js';
import { buildProgram, invokedCommand } from './program.js';

test('each stub names, describes and lists its command as the command itself does', async () => {
  const full = await buildProgram('all');
  const help = new Help();
  for (const stub of COMMAND_MODULES.flatMap((m) => m.commands)) {
    const command = full.commands.find((c) => c.name() === stub.name);
    assert.ok(command, `no command ${stub.name}`);
    if (stub.term === '') continue; // hidden
    assert.equal(stub.description, command.description(), `description of ${stub.name}`);
    assert.equal(stub.term, help.subcommandTerm(command), `help term of ${stub.name}`);
  }
  assert.deepEqual(
    full.commands.map((c) => c.name()),
    COMMAND_MODULES.flatMap((m) => m.commands.map((c) => c.name)),
    'every command is in the list, in help order',
  );
});

test('only the command being run is registered for real; the top-level help is the same', async () => {
  const lazy = await buildProgram('runs');
  const runs = lazy.commands.find((c) => c.name() === 'runs')!;
  assert.deepEqual(
    runs.commands.map((c) => c.name()),
    ['list', 'show', 'logs', 'cancel', 'retry'],
  );
  assert.equal(lazy.commands.find((c) => c.name() === 'run')!.options.length, 0, 'run is a stub');
  assert.equal((await buildProgram(undefined)).helpInformation(), (await buildProgram('all')).helpInformation());
});

test('invokedCommand: the first word, program options aside; the one after help', () => {
  assert.equal(invokedCommand(['run', 'w.yaml', '--plain']), 'run');
  assert.equal(invokedCommand(['--no-color', 'runs', 'list']), 'runs');
  assert.equal(invokedCommand(['help', 'serve']), 'serve');
  assert.equal(invokedCommand(['--version']), undefined);
  assert.equal(invokedCommand([]), undefined);
});
