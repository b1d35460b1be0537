import assert from 'node:assert/strict';
import { cpuUsage } from 'node:process';
import { test } from 'node:test';
import { compileWorkflow } from './compile-workflow.js';
import { largeWorkflow } from '../../test/support/large-workflow.js';
import type { ComponentResolver } from './component-resolver.js';

const noComponents: ComponentResolver = {
  resolve: (ref) => {
    throw new Error(`no component ${ref}`);
  },
};

// Compile time used to grow with stages × actions (a CEL environment per stage, declaring every
// earlier action: 10,000 actions took 40 s). This bounds CPU time, not wall time (the sandbox
// clock jumps), with a wide margin over the figures in bench/README.md (well under 1 s).
for (const [stages, perStage] of [
  [100, 100],
  [1000, 10],
] as const) {
  test(`a workflow of ${stages} stages × ${perStage} actions compiles in linear time`, () => {
    const text = largeWorkflow(stages, perStage);
    const before = cpuUsage();
    const plan = compileWorkflow(text, 'large.yaml', noComponents);
    const spent = cpuUsage(before);
    assert.equal(plan.stages.length, stages);
    assert.equal(plan.stages.at(-1)?.actions.length, perStage);
    const ms = (spent.user + spent.system) / 1000;
    assert.ok(ms < 10_000, `compiling took ${ms.toFixed(0)} ms of CPU`);
  });
}
