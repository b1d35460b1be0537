import { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import type { ExitInfo, LogLine, TaskHandle } from '../executor.js';
import { LineSplitter } from '../shared/line-splitter.js';
import { signalName } from '../shared/signal-name.js';
import { demuxBuffer } from './demux.js';
import { statusOf } from './docker-errors.js';

/** After the container exited, how long its log stream may take to end before we stop reading, ms. */
export const LOG_DRAIN_MS = 5000;

/** How many times a broken `wait` request is retried (1 s apart) before the container counts as lost. */
const WAIT_RETRIES = 30;

/**
 * Delays (ms) between the inspections that find a short task's exit before `wait` answers:
 * Podman answers `wait` 150-400 ms after the exit (once its cleanup process has run), while
 * `inspect` sees it at once. Polling stops after the last delay (about 2.5 s): longer tasks rely
 * on `wait` alone, so that many running containers do not load the runtime with inspections.
 */
const EXIT_POLL_MS = [10, 20, 40, 80, 160, 320, 640, 1280] as const;

/**
 * After the exit, how long the followed log stream may take to end by itself before the rest is
 * read in one request instead, ms. Docker ends it at once; Podman polls its log file and ends it
 * 250-500 ms later.
 */
const LOG_FOLLOW_GRACE_MS = 20;

/** Above this many bytes of output, the end of the log is awaited rather than read again, bytes. */
const LOG_REREAD_MAX_BYTES = 8 * 1024 * 1024;

/** What `ContainerTask` needs besides the container. */
export interface ContainerTaskOptions {
  /** the task ref (container name) */
  readonly ref: string;
  readonly facts: Readonly<Record<string, string>>;
  readonly endpointUrl?: string;
  readonly onLog: (line: LogLine) => void;
  /** default grace of `kill`, ms */
  readonly killGraceMs: number;
  /** deliver only log lines written from this time on (epoch seconds); default: all */
  readonly logsSinceSec?: number;
  /** aborted when the executor closes: requests end, and a broken connection is not a lost container */
  readonly signal: AbortSignal;
  /**
   * the container was created but never started (the engine died in between): it is lost at once.
   * Waiting on it would race Podman, whose `wait` answers -1 or 0 for such a container.
   */
  readonly neverStarted?: boolean;
}

/**
 * The handle of one container. Logs are followed from the start (or from `logsSinceSec` for a
 * re-attached container), demultiplexed into stdout and stderr, split into lines; `wait()`
 * resolves after the container stopped and all of its output was delivered. The exit is seen by
 * `wait`, or sooner for short tasks by inspections (EXIT_POLL_MS). When the followed stream
 * does not end promptly after the exit (Podman), it is cut and the log is read once more without
 * following, skipping the lines already delivered (LOG_FOLLOW_GRACE_MS); a very large output is
 * awaited instead (bounded by LOG_DRAIN_MS).
 * `kill` is `docker stop` (the image's stop signal, SIGTERM by default, then SIGKILL after the
 * grace, rounded up to whole seconds as the API counts them) — it stops every process of the
 * container, whatever it forked.
 */
export class ContainerTask implements TaskHandle {
  readonly ref: string;
  readonly facts: Readonly<Record<string, string>>;
  readonly endpointUrl?: string;
  readonly #docker: Docker;
  readonly #container: Docker.Container;
  readonly #options: ContainerTaskOptions;
  readonly #stopped: Promise<{ statusCode: number } | 'lost' | 'closed'>;
  readonly #logsDone: Promise<void>;
  /** ends the log request or stream (at close, or when it outlives the container) */
  readonly #logsAbort = new AbortController();
  /** ends the pending `wait` request and the exit polling once the exit is known */
  readonly #waitAbort = new AbortController();
  /** complete lines delivered per stream, and bytes read, by the followed log stream */
  readonly #delivered = { stdout: 0, stderr: 0 };
  #bytesRead = 0;
  /** the followed stream was cut to read the rest again: its partial last lines are not flushed */
  #rereading = false;
  #ended: Promise<ExitInfo> | undefined;
  #killReason: string | undefined;
  #exited = false;

  constructor(docker: Docker, container: Docker.Container, options: ContainerTaskOptions) {
    this.ref = options.ref;
    this.facts = options.facts;
    if (options.endpointUrl !== undefined) this.endpointUrl = options.endpointUrl;
    this.#docker = docker;
    this.#container = container;
    this.#options = options;
    this.#logsDone = this.#followLogs();
    this.#stopped = options.neverStarted === true ? Promise.resolve('lost') : this.#waitStopped();
    void this.#stopped.then(() => {
      this.#exited = true;
    });
  }

  /** Resolves once with how the container ended, after its output was delivered. Never rejects. */
  wait(): Promise<ExitInfo> {
    this.#ended ??= this.#end();
    return this.#ended;
  }

  /**
   * Stop the container: its stop signal, then SIGKILL after `graceMs` (default: the
   * executor's). Resolves when it no longer runs. The first reason becomes `ExitInfo.reason`
   * if it was still running. Repeatable; safe after the end and after removal.
   */
  async kill(reason: string, graceMs: number = this.#options.killGraceMs): Promise<void> {
    if (!this.#exited) this.#killReason ??= reason;
    try {
      if (graceMs <= 0) await this.#container.kill();
      else await this.#container.stop({ t: Math.ceil(graceMs / 1000) });
    } catch (error) {
      const status = statusOf(error);
      // 304: already stopped; 404: already removed; 409/500: not running, or stopping (then SIGKILL).
      if (status !== 304 && status !== 404) await this.#container.kill().catch(() => undefined);
    }
    if (!this.#options.signal.aborted) await this.#stopped;
  }

  async #end(): Promise<ExitInfo> {
    const stopped = await this.#stopped;
    if (stopped === 'closed') return new Promise<never>(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const within = (ms: number): Promise<boolean> =>
      Promise.race([
        this.#logsDone.then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
      ]).finally(() => clearTimeout(timer));
    if (!(await within(LOG_FOLLOW_GRACE_MS))) {
      if (stopped !== 'lost' && this.#bytesRead <= LOG_REREAD_MAX_BYTES) {
        this.#rereading = true;
        this.#logsAbort.abort();
        await this.#logsDone;
        await this.#rereadLogs();
      } else {
        await within(LOG_DRAIN_MS);
      }
    }
    // Whatever is still to come would arrive after wait() resolved: stop reading now.
    this.#logsAbort.abort();
    await this.#logsDone;

    const exit: { exitCode: number | null; signal?: string; oomKilled?: boolean; reason?: string } = { exitCode: null };
    if (stopped === 'lost') {
      exit.reason = this.#killReason ?? 'lost';
      return exit;
    }
    const code = stopped.statusCode;
    const signal = code > 128 ? signalName(code - 128) : undefined;
    if (this.#killReason !== undefined && signal !== undefined) exit.signal = signal;
    else exit.exitCode = code;
    const inspected = await this.#container.inspect().catch(() => undefined);
    if (inspected?.State.OOMKilled === true) exit.oomKilled = true;
    if (this.#killReason !== undefined) exit.reason = this.#killReason;
    return exit;
  }

  /** The container's exit code, `lost` if it vanished or cannot be watched, `closed` on close. */
  async #waitStopped(): Promise<{ statusCode: number } | 'lost' | 'closed'> {
    const waited = this.#waitRequest();
    const polled = this.#pollExit().then((found) => found ?? waited);
    const stopped = await Promise.race([waited, polled]);
    this.#waitAbort.abort();
    return stopped;
  }

  async #waitRequest(): Promise<{ statusCode: number } | 'lost' | 'closed'> {
    const abortSignal = AbortSignal.any([this.#options.signal, this.#waitAbort.signal]);
    for (let attempt = 0; ; attempt++) {
      try {
        const result = (await this.#container.wait({ abortSignal })) as { StatusCode?: unknown };
        // Podman answers -1 for a container that never ran (created, then the engine died).
        if (typeof result.StatusCode === 'number')
          return result.StatusCode < 0 ? 'lost' : { statusCode: result.StatusCode };
        const inspected = await this.#container.inspect();
        return { statusCode: inspected.State.ExitCode };
      } catch (error) {
        if (abortSignal.aborted) return 'closed';
        if (statusOf(error) === 404 || attempt >= WAIT_RETRIES) return 'lost';
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  /** The exit code once an inspection shows the container exited; undefined when polling gave up. */
  async #pollExit(): Promise<{ statusCode: number } | undefined> {
    const signal = AbortSignal.any([this.#options.signal, this.#waitAbort.signal]);
    for (const delay of EXIT_POLL_MS) {
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        return undefined;
      }
      const info = await this.#container.inspect().catch(() => undefined);
      const status = info?.State.Status;
      // Podman says `stopped` between the exit and its cleanup, with the exit code known. `created`
      // is not an exit: a container that never ran is for `wait` to report as lost.
      if (info !== undefined && (status === 'exited' || status === 'stopped' || status === 'dead')) {
        return { statusCode: info.State.ExitCode };
      }
    }
    return undefined;
  }

  /** Read the whole log again (not following) and deliver the lines the followed stream had not. */
  async #rereadLogs(): Promise<void> {
    let body: unknown;
    try {
      body = await this.#container.logs({
        follow: false,
        stdout: true,
        stderr: true,
        ...(this.#options.logsSinceSec === undefined ? {} : { since: this.#options.logsSinceSec }),
      });
    } catch {
      // The container is gone: what was delivered is all there is.
      return;
    }
    const buffer = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : '');
    const skip = { ...this.#delivered };
    const out = lineReader('stdout', this.#options.onLog, skip);
    const err = lineReader('stderr', this.#options.onLog, skip);
    for (const frame of demuxBuffer(buffer)) (frame.stream === 'stdout' ? out : err).sink.write(frame.data);
    out.flush();
    err.flush();
  }

  async #followLogs(): Promise<void> {
    const count = (line: LogLine): void => {
      this.#delivered[line.stream] += 1;
      this.#options.onLog(line);
    };
    const out = lineReader('stdout', count);
    const err = lineReader('stderr', count);
    let stream: Readable;
    try {
      stream = (await this.#container.logs({
        follow: true,
        stdout: true,
        stderr: true,
        abortSignal: AbortSignal.any([this.#options.signal, this.#logsAbort.signal]),
        ...(this.#options.logsSinceSec === undefined ? {} : { since: this.#options.logsSinceSec }),
      })) as unknown as Readable;
    } catch {
      // No logs to follow (the container is gone): the exit is reported by wait().
      return;
    }
    const stop = (): void => {
      stream.destroy();
    };
    if (this.#logsAbort.signal.aborted) stop();
    else this.#logsAbort.signal.addEventListener('abort', stop, { once: true });
    stream.on('data', (chunk: Buffer) => (this.#bytesRead += chunk.length));
    this.#docker.modem.demuxStream(stream, out.sink, err.sink);
    await new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
    // Cut to be read again: the partial last lines come whole from the second read.
    if (this.#rereading) return;
    out.flush();
    err.flush();
  }
}

/**
 * A writable that splits what demuxStream writes into lines and delivers them; the first
 * `skip[name]` complete lines are dropped (and counted down), for a second read of a log.
 */
function lineReader(
  name: LogLine['stream'],
  onLog: (line: LogLine) => void,
  skip: { stdout: number; stderr: number } = { stdout: 0, stderr: 0 },
): { sink: Writable; flush(): void } {
  const splitter = new LineSplitter();
  let warned = false;
  const send = (lines: string[]): void => {
    const ts = Date.now();
    for (const line of lines) {
      if (skip[name] > 0) {
        skip[name] -= 1;
        continue;
      }
      try {
        onLog({ stream: name, line, ts });
      } catch (error) {
        if (!warned) process.emitWarning(`the onLog callback of the docker executor threw: ${String(error)}`);
        warned = true;
      }
    }
  };
  let flushed = false;
  return {
    sink: new Writable({
      write(chunk: Buffer, _encoding, done) {
        send(splitter.push(chunk));
        done();
      },
    }),
    flush() {
      if (flushed) return;
      flushed = true;
      send(splitter.end());
    },
  };
}
