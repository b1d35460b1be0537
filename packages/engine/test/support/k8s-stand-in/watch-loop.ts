import * as k8s from '@kubernetes/client-node';
import { log, statusOf } from './cluster-api.js';

/** One object of a list or watch. */
export interface Listed {
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

/**
 * Keep `onEvent` fed with the objects at `path` (a collection URL, e.g. `/api/v1/pods`): list
 * them all (each as ADDED), then watch from the list's resourceVersion; when the watch ends,
 * resume from the last resourceVersion seen; on 410 Gone or an error, list again. Objects gone
 * between two lists are reported DELETED. Stops when `signal` aborts.
 */
export async function watchLoop<T extends Listed>(
  kc: k8s.KubeConfig,
  path: string,
  query: Record<string, string>,
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>,
  onEvent: (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T) => void,
  signal: AbortSignal,
): Promise<void> {
  const known = new Map<string, T>();
  let resourceVersion: string | undefined;
  while (!signal.aborted) {
    try {
      if (resourceVersion === undefined) {
        const listed = await list();
        const seen = new Set<string>();
        for (const item of listed.items) {
          const uid = item.metadata?.uid ?? '';
          seen.add(uid);
          onEvent(known.has(uid) ? 'MODIFIED' : 'ADDED', item);
          known.set(uid, item);
        }
        for (const [uid, item] of known) {
          if (!seen.has(uid)) {
            known.delete(uid);
            onEvent('DELETED', item);
          }
        }
        resourceVersion = listed.metadata?.resourceVersion;
      }
      let gone = false;
      let failed = false;
      let ended = (): void => undefined;
      await new Promise<void>((resolve) => {
        const params = { ...query, ...(resourceVersion === undefined ? {} : { resourceVersion }) };
        const watching = new k8s.Watch(kc).watch(
          path,
          params,
          (type: string, object: T & { code?: number }) => {
            if (type === 'ERROR') {
              if (object.code === 410) gone = true;
              return;
            }
            if (type === 'BOOKMARK') {
              resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
              return;
            }
            if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
            resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
            const uid = object.metadata?.uid ?? '';
            if (type === 'DELETED') known.delete(uid);
            else known.set(uid, object);
            onEvent(type, object);
          },
          (error: unknown) => {
            if (error !== null && error !== undefined) {
              if (statusOf(error) === 410) gone = true;
              else if ((error as Error).name !== 'AbortError') {
                failed = true;
                log(`watch ${path}:`, (error as Error).message);
              }
            }
            resolve();
          },
        );
        let stopWatching: (() => void) | undefined;
        void watching.then((controller) => {
          stopWatching = () => controller.abort();
          if (signal.aborted) controller.abort();
          else signal.addEventListener('abort', stopWatching, { once: true });
        });
        ended = () => {
          if (stopWatching) signal.removeEventListener('abort', stopWatching);
        };
      });
      ended();
      if (gone) {
        log(`watch ${path}: 410 Gone, listing again`);
        resourceVersion = undefined;
      } else if (failed) {
        await new Promise((r) => setTimeout(r, 500));
      }
    } catch (error) {
      if (signal.aborted) return;
      log(`list ${path}:`, error instanceof Error ? error.message : String(error));
      resourceVersion = undefined;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
