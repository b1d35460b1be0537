import type { Command } from 'commander';
import { ValidationError } from '../../domain/errors.js';
import type { SecretInfo } from '../../service/secret-service.js';
import { print } from '../output.js';
import { apiPath, serverOptions, withServer, type RemoteFlags } from '../with-server.js';

interface Flags extends RemoteFlags {
  workflow?: string;
}

/**
 * `pilotage secret set|list|delete`: the server's secret store, over the API (admin token).
 * Values are never printed; `set` reads the value from `--value`, else stdin (piped), else a
 * prompt that does not echo.
 */
export function registerSecret(program: Command): void {
  const secret = program.command('secret').description("the server's secrets (encrypted at rest, masked in every log)");
  serverOptions(
    secret
      .command('set')
      .description('create or replace a secret; runs read it as secrets.NAME')
      .argument('<name>', 'NAME, as in secrets.NAME')
      .option('--workflow <name>', "the workflow's own secret (default: global, for every workflow)")
      .option('--value <value>', 'the value (visible in shell history: prefer stdin or the prompt)'),
    'admin',
  ).action((name: string, flags: Flags & { value?: string }) =>
    withServer(flags, async (client) => {
      const value = flags.value ?? (await readValue(name));
      const info = await client.request<SecretInfo>('PUT', `/v1/${apiPath('secrets', name)}`, {
        value,
        ...(flags.workflow === undefined ? {} : { workflow: flags.workflow }),
      });
      print(flags.json ? info : `secret ${info.name} set (${info.scope})`);
    }),
  );

  serverOptions(
    secret
      .command('list')
      .description('secrets by scope and name (never values)')
      .option('--workflow <name>', "only this workflow's own secrets"),
    'admin',
  ).action((flags: Flags) =>
    withServer(flags, async (client) => {
      const list = await client.request<SecretInfo[]>('GET', `/v1/secrets${workflowQuery(flags)}`);
      if (flags.json) return print({ secrets: list });
      if (list.length === 0) return print('no secrets');
      for (const s of list) {
        print(
          `${s.scope}  ${s.name}  updated ${new Date(s.updatedAt).toISOString()}${s.updatedBy ? ` by ${s.updatedBy}` : ''}`,
        );
      }
    }),
  );

  serverOptions(
    secret
      .command('delete')
      .description('delete a secret')
      .argument('<name>')
      .option('--workflow <name>', "the workflow's own secret (default: the global one)"),
    'admin',
  ).action((name: string, flags: Flags) =>
    withServer(flags, async (client) => {
      await client.request('DELETE', `/v1/${apiPath('secrets', name)}${workflowQuery(flags)}`);
      print(flags.json ? { deleted: name, workflow: flags.workflow ?? null } : `deleted secret ${name}`);
    }),
  );
}

/** `?workflow=NAME` for `--workflow`, else nothing. */
function workflowQuery(flags: Flags): string {
  return flags.workflow === undefined ? '' : `?workflow=${encodeURIComponent(flags.workflow)}`;
}

/** The value from piped stdin (one trailing newline dropped), or a prompt that does not echo. */
async function readValue(name: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    const value = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (value === '') throw new ValidationError('no value: pass --value, pipe it on stdin, or run in a terminal');
    return value;
  }
  return promptHidden(`value of ${name}: `);
}

function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (error?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (text: string): void => {
      for (const char of text) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003') return done(new ValidationError('cancelled'));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.on('data', onData);
  });
}
