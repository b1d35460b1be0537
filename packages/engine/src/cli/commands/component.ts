import type { Command } from 'commander';
import { registerComponentBuild } from './component-build.js';
import { registerComponentInit } from './component-init.js';
import { registerComponentRegistry } from './component-registry.js';
import { registerComponentTest } from './component-test.js';

/** `pilotage component …`: scaffold, test and (with a container runtime) build components; register them on a server. */
export function registerComponent(program: Command): void {
  const component = program.command('component').description('work with components');
  registerComponentInit(component);
  registerComponentTest(component);
  registerComponentBuild(component);
  registerComponentRegistry(component);
}
