import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageInspectInfo } from 'dockerode';
import { imageFacts } from './image-puller.js';

const ID = `sha256:${'1'.repeat(64)}`;
const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

function info(repoDigests: string[] | undefined): ImageInspectInfo {
  return { Id: ID, RepoDigests: repoDigests } as unknown as ImageInspectInfo;
}

const cases: Array<[string, string[] | undefined, string]> = [
  ['registry.example.com/team/tool:1.2', [`other.example.com/tool@${A}`, `registry.example.com/team/tool@${B}`], B],
  ['localhost:5000/tool:1', [`localhost:5000/tool@${A}`], A],
  ['tool@' + A, [`docker.io/library/tool@${A}`], A],
  ['localhost/pilotage/base:latest', [], ID],
  ['localhost/pilotage/base:latest', undefined, ID],
];
for (const [image, digests, expected] of cases) {
  test(`imageFacts ${image} → ${expected.slice(0, 14)}`, () => {
    assert.deepEqual(imageFacts(image, info(digests)), { image, imageId: ID, imageDigest: expected });
  });
}
