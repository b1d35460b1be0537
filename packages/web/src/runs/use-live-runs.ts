import { routes, type RunInfo } from '@pilotage/api';
import { useQueryClient, type InfiniteData, type QueryKey } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { openStream } from '../api/event-stream';
import type { Live } from '../common/ui';

/** A page of `GET /v1/runs`. */
interface RunPage {
  readonly runs: RunInfo[];
  readonly nextCursor: string | null;
}

/** A burst of new runs reads the list again at most this often, ms. */
const RELOAD_GAP_MS = 500;

/**
 * Keep the runs list under `queryKey` current from `GET /v1/runs/events` (every run's changes,
 * whichever replica made them): a listed run still matching `matches` (the list's filters) is
 * replaced where it is; a matching run not listed (a new one) or a listed one that no longer
 * matches makes the list read again (at most every half second), and so do a `resync` and a
 * reconnect (changes may have been missed). Runs outside the filters are ignored.
 * Returns the state of the connection.
 */
export function useLiveRuns(queryKey: QueryKey, matches: (run: RunInfo) => boolean): Live {
  const queries = useQueryClient();
  const [live, setLive] = useState<Live>('connecting');
  const matchesRef = useRef(matches);
  matchesRef.current = matches;
  const keyText = JSON.stringify(queryKey);

  useEffect(() => {
    const key = JSON.parse(keyText) as QueryKey;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let dropped = false;
    const reload = (): void => {
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        void queries.invalidateQueries({ queryKey: key, exact: true });
      }, RELOAD_GAP_MS);
    };
    const replace = (run: RunInfo): boolean => {
      let found = false;
      queries.setQueryData<InfiniteData<RunPage>>(key, (data) => {
        if (data === undefined) return data;
        const pages = data.pages.map((page) => {
          const index = page.runs.findIndex((r) => r.id === run.id);
          if (index < 0) return page;
          found = true;
          const runs = [...page.runs];
          runs[index] = run;
          return { ...page, runs };
        });
        return found ? { ...data, pages } : data;
      });
      return found;
    };
    const listed = (id: string): boolean =>
      queries.getQueryData<InfiniteData<RunPage>>(key)?.pages.some((page) => page.runs.some((r) => r.id === id)) ??
      false;
    const close = openStream(
      routes.runsEvents,
      {},
      {
        onOpen: () => {
          setLive('live');
          // what changed while the stream was down is only in the list
          if (dropped) reload();
          dropped = false;
        },
        onError: () => {
          dropped = true;
          setLive('reconnecting');
        },
        onEvent: (message) => {
          if (message.event === 'resync') return reload();
          const { run } = message.data;
          if (matchesRef.current(run)) {
            if (!replace(run)) reload(); // a new run for this list
          } else if (listed(run.id)) reload(); // it left the filter
        },
      },
    );
    return () => {
      clearTimeout(timer);
      close();
    };
  }, [keyText, queries]);
  return live;
}
