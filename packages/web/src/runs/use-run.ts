import { routes, type RunStreamEvent } from '@pilotage/api';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { call } from '../api/client';
import { openStream } from '../api/event-stream';
import type { Live } from '../common/ui';
import { foldRunEvent, modelOfDetail, type RunModel } from './run-model';

/**
 * A run, live: `GET /v1/runs/:id` (every attempt with its statuses) then the run's event stream
 * (a snapshot, then each change) folded into one model. The detail is read again when the run
 * ends and, while events flow, at most every few seconds (for transitions and statuses).
 */
export function useRun(id: string): {
  model: RunModel | undefined;
  error: unknown;
  live: Live;
  refresh(): void;
} {
  const queries = useQueryClient();
  const detail = useQuery({ queryKey: ['run', id], queryFn: () => call(routes.getRun, { params: { id } }) });
  const [model, setModel] = useState<RunModel | undefined>();
  const [live, setLive] = useState<Live>('connecting');
  const pending = useRef<RunStreamEvent[]>([]);
  const lastRefresh = useRef(0);

  useEffect(() => {
    if (detail.data) {
      const base = modelOfDetail(detail.data);
      // events that arrived before this answer are folded on top of it
      setModel(pending.current.reduce<RunModel | undefined>(foldRunEvent, base));
    }
  }, [detail.data]);

  useEffect(() => {
    setModel(undefined);
    setLive('connecting');
    pending.current = [];
    let ended = false;
    const close = openStream(
      routes.runEvents,
      { id },
      {
        onOpen: () => setLive('live'),
        onError: () => setLive(ended ? 'ended' : 'reconnecting'),
        onEvent: (message) => {
          pending.current.push(message);
          if (pending.current.length > 500) pending.current.shift();
          setModel((m) => foldRunEvent(m, message));
          if (message.event === 'end') {
            ended = true;
            setLive('ended');
            close();
            void queries.invalidateQueries({ queryKey: ['run', id] });
            void queries.invalidateQueries({ queryKey: ['cdevents', id] });
          } else if (message.event === 'task' && Date.now() - lastRefresh.current > 3000) {
            lastRefresh.current = Date.now();
            void queries.invalidateQueries({ queryKey: ['run', id] });
          }
        },
      },
    );
    return close;
  }, [id, queries]);

  return {
    model,
    error: detail.error,
    live,
    refresh: () => void queries.invalidateQueries({ queryKey: ['run', id] }),
  };
}
