import assert from 'node:assert/strict';
import { cpuUsage } from 'node:process';
import { test } from 'node:test';
import { compileWorkflow } from './compile-workflow.js';
import type { ComponentResolver } from './component-resolver.js';

const noComponents: ComponentResolver = {
  resolve: (ref) => {
    throw new Error(`no component ${ref}`);
  },
};

/** `stages` stages of `perStage` inline actions; each action reads an action of the stage before. */
export function largeWorkflow(stages: number, perStage: number): string {
  const lines = [
    'apiVersion: pilotage.dev/v1',
    'kind: Workflow',
    'name: large',
    'inputs: { type: object, properties: { name: { type: string, default: x } } }',
    'stages:',
  ];
  for (let s = 0; s < stages; s++) {
    lines.push(`  - name: s${s}`, '    actions:');
    for (let a = 0; a < perStage; a++) {
      const read = s === 0 ? '${{ inputs.name }}' : `\${{ actions.a${s - 1}x${a}.status }}`;
      lines.push(`      - name: a${s}x${a}`, '        run: echo hi', `        with: { v: "${read}" }`);
    }
  }
  return `${lines.join('\n')}\n`;
}

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
