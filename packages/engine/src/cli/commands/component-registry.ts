import type { Command } from 'commander';
import { registerComponentList } from './component-list.js';
import { registerComponentRegister } from './component-register.js';
import { registerComponentDeprecate, registerComponentShow } from './component-show.js';

/** `pilotage component register|list|show|deprecate`: the registry of a server. */
export function registerComponentRegistry(component: Command): void {
  registerComponentRegister(component);
  registerComponentList(component);
  registerComponentShow(component);
  registerComponentDeprecate(component);
}
