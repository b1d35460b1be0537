import type { Command } from 'commander';
import { startServer, type RunningServer } from '../../serve.js';
import { reportError } from '../output.js';
import { configFrom } from '../runtime-flags.js';

interface ServeFlags {
  host?: string;
  port?: string;
  db?: string;
  advertiseUrl?: string;
  executor?: string;
  config?: string;
  logLevel?: string;
  passEnv: string[];
}

/** `pilotage serve`: the API server, until SIGTERM or SIGINT (then a graceful stop). */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the REST API, live updates and component callbacks (SQLite store by default)')
    .option('--host <address>', 'interface to listen on (PILOTAGE_HOST, default 127.0.0.1)')
    .option('--port <n>', 'TCP port (PILOTAGE_PORT, default 8080; 0 = any free port)')
    .option('--db <path|url>', 'store: SQLite file or postgres:// URL (PILOTAGE_DB)')
    .option('--advertise-url <url>', 'URL at which containers and pods reach this server (PILOTAGE_ADVERTISE_URL)')
    .option('--executor <name>', 'default executor: local, docker, kubernetes or auto (PILOTAGE_EXECUTOR)')
    .option('--log-level <level>', 'trace, debug, info, warn, error (PILOTAGE_LOG_LEVEL)')
    .option(
      '--pass-env <NAME>',
      "let every component inherit this variable of the server's environment (a name or a glob such as AWS_*; repeatable; PILOTAGE_PASS_ENV)",
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .option(
      '-c, --config <file>',
      'config file, YAML or JSON (PILOTAGE_CONFIG; default $XDG_CONFIG_HOME/pilotage/config.yaml when it exists)',
    )
    .action(async (flags: ServeFlags) => {
      try {
        const config = configFrom(
          {
            host: flags.host,
            port: flags.port,
            db: flags.db,
            advertiseUrl: flags.advertiseUrl,
            executor: flags.executor,
            logLevel: flags.logLevel,
            passEnv: flags.passEnv,
          },
          flags.config,
        );
        // Signals are handled from the start: one that arrives while the server is still
        // starting stops it as soon as it is up, instead of killing it halfway.
        let stopping = false;
        const up: { server?: RunningServer } = {};
        const shutdown = (server: RunningServer): void => {
          server.close().then(
            () => process.exit(0),
            (error: unknown) => {
              process.exitCode = reportError(error, false);
              process.exit();
            },
          );
        };
        const stop = (signal: string): void => {
          if (stopping) {
            process.stderr.write(`${signal} again: exiting now; unfinished runs resume on the next start\n`);
            process.exit(130);
          }
          stopping = true;
          if (up.server !== undefined) shutdown(up.server);
        };
        process.on('SIGTERM', () => stop('SIGTERM'));
        process.on('SIGINT', () => stop('SIGINT'));
        up.server = await startServer(config);
        if (stopping) shutdown(up.server);
      } catch (error) {
        process.exitCode = reportError(error, false);
      }
    });
}
