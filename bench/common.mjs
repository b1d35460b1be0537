import { createServer } from 'node:net';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { fixed } from './table.mjs';

/** The value at quantile `q` (0..1) of `values` (nearest rank; NaN when empty). */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** The middle value (the upper one of an even count). */
export function median(values) {
  return quantile(values, 0.5);
}

/**
 * The positive whole number in env var `name`, or `fallback` when it is unset or empty. Anything
 * else ends the bench with exit code 2 and a message naming the variable.
 */
export function positiveEnv(name, fallback) {
  return wholeEnv(name, fallback, 1);
}

/** As `positiveEnv`, 0 allowed. */
export function nonNegativeEnv(name, fallback) {
  return wholeEnv(name, fallback, 0);
}

function wholeEnv(name, fallback, least) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < least) {
    const what = least === 1 ? 'a positive whole number' : `a whole number of at least ${least}`;
    console.error(`${name} must be ${what}, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return value;
}

/** One line describing this machine: CPUs, memory, OS and Node, for the head of a bench's output. */
export function machineLine() {
  const cpu = cpus();
  return (
    `machine: ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'}), ${fixed(totalmem() / 2 ** 30, 1)} GiB, ` +
    `${type()} ${release()}, Node ${process.version}`
  );
}

/**
 * The 1-minute load average now, as printed beside a figure: on the shared 2-CPU machine a figure
 * means little without it (compare ratios measured in the same run).
 */
export function loadNow() {
  return fixed(loadavg()[0] ?? 0, 1);
}

/** `load average at the <when>: 1, 5 and 15 minutes`, the line a bench prints at its start and end. */
export function loadLine(when) {
  return `load average at the ${when}: ${loadavg()
    .map((l) => fixed(l))
    .join(', ')}`;
}

/** A TCP port free on 127.0.0.1 now (the OS picks it; a probe server is opened and closed). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
