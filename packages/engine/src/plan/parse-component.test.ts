import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { PlanError, formatIssue } from '../domain/issue.js';
import { parseComponent } from './parse-component.js';

const head = 'apiVersion: pilotage.dev/v1\nkind: Component\nname: tool\nversion: 1.0.0\n';

function issuesOf(text: string): string[] {
  try {
    parseComponent(text, 'c/component.yaml');
  } catch (error) {
    if (error instanceof PlanError) return error.issues.map(formatIssue);
    throw error;
  }
  assert.fail('the component compiled');
}

describe('parseComponent', () => {
  test('fills defaults and keeps command as written, dir absolute', () => {
    const component = parseComponent(
      `${head}command: [./run.sh, --fast]\nendpoint: { port: 8080 }\nenv: { N: 1, B: true }\n`,
      'c/component.yaml',
    );
    assert.deepEqual(component, {
      name: 'tool',
      version: '1.0.0',
      command: ['./run.sh', '--fast'],
      dir: resolve('c'),
      strict: false,
      endpoint: { port: 8080, path: '/' },
      env: { N: '1', B: 'true' },
      volumes: [],
    });
    assert.ok(Object.isFrozen(component.command));
  });

  test('reads JSON too', () => {
    const component = parseComponent(
      '{"apiVersion": "pilotage.dev/v1", "kind": "Component", "name": "j", "version": "0.0.1", "image": "alpine:3", "timeout": "2m"}',
      '/abs/component.json',
    );
    assert.equal(component.image, 'alpine:3');
    assert.equal(component.timeoutMs, 120_000);
    assert.equal(component.dir, '/abs');
  });

  test('reports every problem at once, with positions', () => {
    assert.deepEqual(
      issuesOf(
        `${head}strict: "yes"\nvolumes: [ { name: a, mountPath: /a }, { name: a, mountPath: /b } ]\noutputs: { type: object, properties: { x: { tpye: string } } }\n`,
      ),
      [
        'c/component.yaml:1:1: a component needs an image (container executors) or a command (local executor), or both',
        'c/component.yaml:5:9: strict: expected true or false, got "yes"',
        'c/component.yaml:6:48: volumes[1].name: duplicate volume name "a"',
        'c/component.yaml:7:45: outputs.properties.x.tpye: invalid JSON Schema: unknown keyword "tpye" (did you mean "type"?)',
      ],
    );
  });

  test('a file of another kind is named as such', () => {
    assert.deepEqual(issuesOf('apiVersion: pilotage.dev/v1\nkind: Workflow\nname: w\nversion: 1.0.0\nimage: x\n'), [
      'c/component.yaml:2:7: kind: expected "Component", got "Workflow"',
    ]);
    assert.deepEqual(issuesOf(''), [
      'c/component.yaml:1:1: the file is empty: expected a component (apiVersion, kind, name, version, image or command)',
    ]);
  });
});
