import type { Command } from 'commander';
import { registerComponentBuild } from './component-build.js';
import { registerComponentDeprecate } from './component-deprecate.js';
import { registerComponentInit } from './component-init.js';
import { registerComponentList } from './component-list.js';
import { registerComponentRegister } from './component-register.js';
import { registerComponentShow } from './component-show.js';
import { registerComponentTest } from './component-test.js';

/** `pilotage component …`: scaffold, test and (with a container runtime) build components; register them on a server. */
export function registerComponent(program: Command): void {
  const component = program.command('component').description('work with components');
  registerComponentInit(component);
  registerComponentTest(component);
  registerComponentBuild(component);
  // the registry of a server
  registerComponentRegister(component);
  registerComponentList(component);
  registerComponentShow(component);
  registerComponentDeprecate(component);
}
