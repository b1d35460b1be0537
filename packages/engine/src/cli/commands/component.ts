import type { Command } from 'commander';
import { registerComponentTest } from './component-test.js';

/** `pilotage component …`: test (and, with a container runtime, build and scaffold) components. */
export function registerComponent(program: Command): void {
  const component = program.command('component').description('work with components');
  registerComponentTest(component);
}
