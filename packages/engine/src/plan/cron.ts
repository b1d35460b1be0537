import { croner } from './on-first-use.js';

const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface Field {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** names accepted instead of numbers, the first one worth `min` */
  readonly names?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 7, names: DAYS },
];

/**
 * What is wrong with a cron schedule, or `undefined` when it is valid: five fields
 * (minute hour day-of-month month day-of-week) of `*`, numbers, ranges `a-b`, steps `/n`,
 * lists `a,b`, month and day names (`jan`, `mon`), or a macro such as `@daily`.
 */
export function cronProblem(schedule: string): string | undefined {
  const trimmed = schedule.trim();
  if (trimmed.startsWith('@')) {
    return MACROS.has(trimmed)
      ? undefined
      : `unknown cron macro "${trimmed}"; expected one of ${[...MACROS].join(', ')}`;
  }
  const parts = trimmed.split(/\s+/);
  if (parts.length !== 5) {
    return `expected a cron schedule of 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`;
  }
  for (const [index, part] of parts.entries()) {
    const field = FIELDS[index];
    if (field === undefined) break;
    for (const item of part.split(',')) {
      const problem = itemProblem(item, field);
      if (problem !== undefined) return `invalid ${field.name} "${part}" in cron schedule: ${problem}`;
    }
  }
  if (neverFires(trimmed)) {
    return `the cron schedule "${trimmed}" never fires (no such day: a day of month that the month never has, such as 31 in February); fix the day or the month`;
  }
  return undefined;
}

// croner (what the server schedules with) finds no next time: `0 0 31 2 *`, `0 0 31 4 *`
function neverFires(schedule: string): boolean {
  const cron = new (croner().Cron)(schedule, { paused: true });
  try {
    return cron.nextRun() === null;
  } finally {
    cron.stop();
  }
}

function itemProblem(item: string, field: Field): string | undefined {
  const [range = '', step, extra] = item.split('/');
  if (extra !== undefined) return 'more than one "/"';
  if (step !== undefined && !/^[1-9][0-9]*$/.test(step)) return `step "${step}" is not a positive number`;
  if (range === '*') return undefined;
  const bounds = range.split('-');
  if (bounds.length > 2) return `"${range}" is not a value or a range`;
  const values: number[] = [];
  for (const bound of bounds) {
    const value = valueOf(bound, field);
    if (value === undefined) return `"${bound}" is not a number from ${field.min} to ${field.max}`;
    values.push(value);
  }
  const [from = 0, to = from] = values;
  if (from > to) return `range ${range} goes backwards`;
  return undefined;
}

function valueOf(text: string, field: Field): number | undefined {
  if (/^[0-9]+$/.test(text)) {
    const value = Number(text);
    return value >= field.min && value <= field.max ? value : undefined;
  }
  const index = field.names?.indexOf(text.toLowerCase()) ?? -1;
  return index === -1 ? undefined : field.min + index;
}

/** Is `zone` an IANA time zone this runtime knows (`Europe/Paris`, `UTC`)? */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
