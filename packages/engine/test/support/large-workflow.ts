/**
 * A workflow of `stages` stages of `perStage` inline actions, each reading an action of the stage
 * before (what the compile-time tests and benches use: bench/compile.mjs writes the same shape).
 */
export function largeWorkflow(stages: number, perStage: number, name = 'large'): string {
  const lines = [
    'apiVersion: pilotage.dev/v1',
    'kind: Workflow',
    `name: ${name}`,
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
