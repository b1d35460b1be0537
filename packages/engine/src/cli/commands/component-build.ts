import type { Command } from 'commander';
import { connectConfiguredDocker } from '../../executor/configured-executors.js';
import { buildComponentDir } from '../../executor/docker/build-component-dir.js';
import { EXIT, print, reportError } from '../output.js';
import { registerFile } from './component-register.js';
import { configFrom } from '../runtime-flags.js';
import { look } from '../terminal.js';
import { apiClient, connectionOptions, type RemoteFlags } from '../with-server.js';

interface Flags extends RemoteFlags {
  tag?: string;
  quiet?: boolean;
  register?: boolean;
}

/**
 * `pilotage component build DIR`: build the component's image from its Dockerfile through the
 * Docker Engine API (DOCKER_HOST, else the usual Docker and Podman sockets), tagged with the
 * `image` of its component.yaml, else `name:version` (or `--tag`). Build output goes to stderr;
 * the result (tag and image id) to stdout.
 */
export function registerComponentBuild(component: Command): void {
  const command = component
    .command('build')
    .description("build a component's image from its Dockerfile (Docker or Podman API), tagged name:version")
    .argument('<dir>', 'the component folder (component.yaml and Dockerfile)')
    .option('--tag <image>', 'the tag (default: the image of component.yaml, else name:version)')
    .option('-q, --quiet', 'do not show the build output')
    .option('--json', 'the result as JSON')
    .option('--register', 'then register the component version on a server (admin token)');
  connectionOptions(command, 'admin', 'with --register: the Pilotage server (PILOTAGE_SERVER)').action(
    async (dir: string, flags: Flags) => {
      try {
        // the server is checked first, so a missing --server fails before a long build
        const client = flags.register ? apiClient(flags) : undefined;
        const { docker, endpoint } = await connectConfiguredDocker(configFrom({}), 'component build');
        if (!flags.quiet && !flags.json) process.stderr.write(`building ${dir} on ${endpoint.dockerHost}\n`);
        const built = await buildComponentDir(
          docker,
          dir,
          (line) => {
            if (!flags.quiet) process.stderr.write(`${look(process.stderr).glyphs.bar} ${line}\n`);
          },
          flags.tag === undefined ? {} : { tag: flags.tag },
        );
        const registered = client === undefined ? undefined : await registerFile(client, built.file);
        if (flags.json) print(registered === undefined ? built : { ...built, registered });
        else {
          print(`built ${built.component} as ${built.tag} (${built.imageId})`);
          if (registered !== undefined) print(`${registered.status} ${registered.name}@${registered.version}`);
        }
        process.exitCode = EXIT.ok;
      } catch (error) {
        process.exitCode = reportError(error, flags.json === true);
      }
    },
  );
}
