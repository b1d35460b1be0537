import { routes, type TaskRunInfo } from '@pilotage/api';
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { openStream } from '../api/event-stream';
import { clockTime } from '../common/format';
import { AnsiLine, Highlighted, visibleEscapes } from './ansi';
import { LogLines, visibleRange } from './log-lines';

/** Height of one log row, px (rows never wrap: long lines scroll sideways). */
const ROW = 18;

/**
 * A task run's log, streamed live (SSE, resumed by the browser with Last-Event-ID), virtualised
 * (only the visible rows exist in the page, so 100,000 lines stay smooth), with ANSI colours,
 * search, follow, timestamps, a raw view and a download.
 */
export function LogViewer({ runId, task }: { readonly runId: string; readonly task: TaskRunInfo }) {
  const store = useRef(new LogLines());
  const [version, setVersion] = useState(0);
  const [ended, setEnded] = useState(false);
  const [follow, setFollow] = useState(true);
  const [times, setTimes] = useState(false);
  const [raw, setRaw] = useState(false);
  const [query, setQuery] = useState('');
  const [current, setCurrent] = useState(0);
  const [scroll, setScroll] = useState({ top: 0, height: 400 });
  const box = useRef<HTMLDivElement>(null);
  // where the viewer itself last scrolled to: scrolling above it is the reader's doing
  const autoTop = useRef(0);

  useEffect(() => {
    const lines = store.current;
    let frame = 0;
    const flush = () => {
      frame = 0;
      setVersion(lines.version);
    };
    const close = openStream(
      routes.taskLogStream,
      { id: runId, taskRunId: task.id },
      {
        onEvent: (message) => {
          if (message.event === 'log') {
            if (lines.add([message.data]) > 0 && frame === 0) frame = requestAnimationFrame(flush);
          } else if (message.event === 'end') {
            setEnded(true);
            close();
            if (frame === 0) frame = requestAnimationFrame(flush);
          }
        },
      },
      { after: 0 },
    );
    return () => {
      close();
      cancelAnimationFrame(frame);
    };
  }, [runId, task.id]);

  const lines = store.current.lines;
  const matches = useMemo(() => store.current.search(query), [query, version]);

  useEffect(() => {
    const el = box.current;
    if (el && follow) {
      el.scrollTop = el.scrollHeight;
      autoTop.current = el.scrollTop;
    }
  }, [version, follow]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setScroll({ top: el.scrollTop, height: el.clientHeight }));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const goTo = (index: number) => {
    if (matches.length === 0) return;
    const next = (index + matches.length) % matches.length;
    setCurrent(next);
    setFollow(false);
    autoTop.current = Number.MAX_SAFE_INTEGER;
    const el = box.current;
    if (el) el.scrollTop = Math.max(0, matches[next]! * ROW - el.clientHeight / 2);
  };
  const onSearchKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      goTo(current + (e.shiftKey ? -1 : 1));
    } else if (e.key === 'Escape') {
      setQuery('');
    }
  };
  const download = () => {
    const blob = new Blob([store.current.text(times)], { type: 'text/plain' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `${task.action}-attempt-${task.attempt}.log`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  const { start, end } = visibleRange(scroll.top, scroll.height, ROW, lines.length);
  const matchSet = useMemo(() => new Set(matches), [matches]);
  const currentLine = matches[current];
  const running = !ended && !['succeeded', 'failed', 'errored', 'cancelled', 'skipped'].includes(task.state);

  return (
    <div className="log-viewer">
      <div className="log-tools">
        <input
          type="search"
          className="log-search"
          placeholder="Search the log"
          aria-label="Search the log"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setCurrent(0);
          }}
          onKeyDown={onSearchKey}
        />
        {query && (
          <span className="muted small num" aria-live="polite">
            {matches.length === 0 ? 'no match' : `${Math.min(current + 1, matches.length)} of ${matches.length}`}
          </span>
        )}
        {query && matches.length > 0 && (
          <>
            <button type="button" className="small" onClick={() => goTo(current - 1)} aria-label="Previous match">
              ↑
            </button>
            <button type="button" className="small" onClick={() => goTo(current + 1)} aria-label="Next match">
              ↓
            </button>
          </>
        )}
        <span className="spacer" />
        <label className="toggle">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
        <label className="toggle">
          <input type="checkbox" checked={times} onChange={(e) => setTimes(e.target.checked)} /> Times
        </label>
        <label className="toggle">
          <input type="checkbox" checked={raw} onChange={(e) => setRaw(e.target.checked)} /> Raw
        </label>
        <button type="button" className="small" onClick={download} disabled={lines.length === 0}>
          Download
        </button>
      </div>
      <div
        className={`log-box${raw ? ' raw' : ''}`}
        ref={box}
        tabIndex={0}
        role="log"
        aria-label={`Log of ${task.action}`}
        aria-live="off"
        onScroll={(e) => {
          const el = e.currentTarget;
          setScroll({ top: el.scrollTop, height: el.clientHeight });
          // lines arriving move the bottom away without anyone scrolling: only a scroll up by the
          // reader stops following, and reaching the bottom again resumes it
          const atBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW * 2;
          if (atBottom && !follow) setFollow(true);
          else if (!atBottom && follow && el.scrollTop < autoTop.current - 2) setFollow(false);
          if (atBottom) autoTop.current = el.scrollTop;
        }}
      >
        {lines.length === 0 ? (
          <div className="log-empty muted">
            {running || !ended ? 'Waiting for output…' : 'This attempt wrote no output.'}
          </div>
        ) : (
          <div className="log-rows" style={{ height: lines.length * ROW }}>
            {lines.slice(start, end).map((line, i) => {
              const index = start + i;
              return (
                <div
                  key={line.seq}
                  className={`log-row${line.stream === 'stderr' ? ' stderr' : ''}${matchSet.has(index) ? ' match' : ''}${index === currentLine ? ' current' : ''}`}
                  style={{ transform: `translateY(${index * ROW}px)` }}
                  data-seq={line.seq}
                >
                  <span className="log-no">{line.seq}</span>
                  {times && <span className="log-time">{clockTime(line.at)}</span>}
                  <span className="log-text">
                    {raw ? (
                      <Highlighted text={visibleEscapes(line.line)} query={query} />
                    ) : (
                      <AnsiLine text={line.line} highlight={query} />
                    )}
                  </span>
                </div>
              );
            })}
          </div>
        )}
      </div>
      <div className="log-foot muted small">
        {lines.length.toLocaleString()} lines{running ? ' · streaming' : ended ? ' · complete' : ''}
      </div>
    </div>
  );
}
