import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { createNativeStarter, nativeSpawnAddon } from '../../src/executor/local/native-spawn.js';
import { createProcessStarter, type ProcessStarter } from '../../src/executor/local/spawner.js';

/** A process starter whose next start goes through its spawner process (started and answering). */
export async function readySpawner(): Promise<ProcessStarter> {
  const starter = createProcessStarter({ spawnerAfter: 0, native: false });
  // the spawner is starting (spawnerAfter 0); a start meanwhile is direct
  const first = starter.start('true', [], tmpdir(), {});
  await new Promise((resolve) => first.once('close', resolve));
  for (let i = 0; starter.spawnerPid === undefined; i++) {
    if (i > 500) throw new Error('the spawner process did not start in 10 s');
    await delay(20);
  }
  return starter;
}

/**
 * The native starter (posix_spawn). The addon is built by `npm run build` (scripts/build-native.mjs)
 * wherever node-gyp and a C compiler are; this machine and CI have both, so its absence fails.
 */
export function nativeStarter(): ProcessStarter {
  assert.ok(
    nativeSpawnAddon() !== undefined,
    'the native spawn addon is not built (packages/engine/build/Release/pilotage_spawn.node): run npm run build',
  );
  return createNativeStarter();
}
