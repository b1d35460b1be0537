import { constants } from 'node:os';
import { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { ExitInfo, LogLine, TaskHandle } from '../executor.js';
import { LineSplitter } from '../shared/line-splitter.js';
import { statusOf } from './docker-errors.js';

/** After the container exited, how long its log stream may take to end before we stop reading, ms. */
export const LOG_DRAIN_MS = 5000;

/** How many times a broken `wait` request is retried (1 s apart) before the container counts as lost. */
const WAIT_RETRIES = 30;

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
}

/**
 * The handle of one container. Logs are followed from the start (or from `logsSinceSec` for a
 * re-attached container), demultiplexed into stdout and stderr, split into lines; `wait()`
 * resolves after the container stopped and its log stream ended (bounded by LOG_DRAIN_MS).
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
    this.#stopped = this.#waitStopped();
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
    await Promise.race([this.#logsDone, new Promise((resolve) => (timer = setTimeout(resolve, LOG_DRAIN_MS)))]);
    clearTimeout(timer);
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
    for (let attempt = 0; ; attempt++) {
      try {
        const result = (await this.#container.wait({ abortSignal: this.#options.signal })) as { StatusCode?: unknown };
        // Podman answers -1 for a container that never ran (created, then the engine died).
        if (typeof result.StatusCode === 'number')
          return result.StatusCode < 0 ? 'lost' : { statusCode: result.StatusCode };
        const inspected = await this.#container.inspect();
        return { statusCode: inspected.State.ExitCode };
      } catch (error) {
        if (this.#options.signal.aborted) return 'closed';
        if (statusOf(error) === 404 || attempt >= WAIT_RETRIES) return 'lost';
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  async #followLogs(): Promise<void> {
    const out = lineReader('stdout', this.#options.onLog);
    const err = lineReader('stderr', this.#options.onLog);
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
    this.#docker.modem.demuxStream(stream, out.sink, err.sink);
    await new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
    out.flush();
    err.flush();
  }
}

/** A writable that splits what demuxStream writes into lines and delivers them. */
function lineReader(name: LogLine['stream'], onLog: (line: LogLine) => void): { sink: Writable; flush(): void } {
  const splitter = new LineSplitter();
  let warned = false;
  const send = (lines: string[]): void => {
    const ts = Date.now();
    for (const line of lines) {
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

function signalName(number: number): string | undefined {
  for (const [name, value] of Object.entries(constants.signals)) if (value === number) return name;
  return undefined;
}
