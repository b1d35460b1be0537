#!/usr/bin/env node
// Fails when the TypeScript sources import each other in a cycle (type-only imports included:
// a cycle of types is still a design knot). Relative imports only; `./x.js` names `./x.ts`.
// Our own check because the ESLint plugins for it need native resolvers this registry lacks.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const sources = ['packages/engine/src', 'packages/sdk/src', 'packages/api/src'].map((p) => join(root, p));

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

const importRe = /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g;
const graph = new Map();
for (const file of sources.flatMap((dir) => walk(dir))) {
  const text = readFileSync(file, 'utf8');
  const deps = [];
  for (const match of text.matchAll(importRe)) {
    const target = resolve(dirname(file), match[1].replace(/\.js$/, '.ts'));
    if (existsSync(target)) deps.push(target);
  }
  graph.set(file, deps);
}

const state = new Map(); // 1: on the stack, 2: done
const stack = [];
const cycles = [];
function visit(file) {
  state.set(file, 1);
  stack.push(file);
  for (const dep of graph.get(file) ?? []) {
    if (state.get(dep) === 1) cycles.push([...stack.slice(stack.indexOf(dep)), dep]);
    else if (!state.has(dep)) visit(dep);
  }
  stack.pop();
  state.set(file, 2);
}
for (const file of graph.keys()) if (!state.has(file)) visit(file);

if (cycles.length > 0) {
  for (const cycle of cycles) console.error(`import cycle: ${cycle.map((f) => relative(root, f)).join(' → ')}`);
  process.exit(1);
}
console.log(`no import cycles in ${graph.size} files`);
