/** One sample of the Prometheus text format. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const COMMENT = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`);
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * Parse Prometheus text exposition format 0.0.4 strictly: every line is a HELP, a TYPE or a
 * sample; every sample belongs to a family declared by TYPE before it (histogram samples by
 * their `_bucket`/`_sum`/`_count` suffix); values are numbers, `+Inf`, `-Inf` or `NaN` (any case). Throws
 * naming the first bad line.
 */
export function parsePrometheusText(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  text.split('\n').forEach((line, index) => {
    const where = `line ${index + 1}: ${JSON.stringify(line)}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const match = COMMENT.exec(line);
      if (!match) throw new Error(`bad comment, ${where}`);
      if (match[1] === 'TYPE') {
        if (!TYPES.has(match[3] ?? '')) throw new Error(`unknown type, ${where}`);
        types.set(match[2] ?? '', match[3] ?? '');
      }
      return;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`bad sample, ${where}`);
    const name = match[1] ?? '';
    const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((n) => types.has(n));
    if (family === undefined) throw new Error(`sample without a TYPE, ${where}`);
    if (family !== name && !['histogram', 'summary'].includes(types.get(family) ?? '')) {
      throw new Error(`suffix on a ${types.get(family)}, ${where}`);
    }
    const raw = (match[3] ?? '').toLowerCase();
    // as Go's ParseFloat, which Prometheus uses: NaN and Inf in any case (prom-client writes `Nan`)
    const value = raw === '+inf' ? Infinity : raw === '-inf' ? -Infinity : raw === 'nan' ? NaN : Number(raw);
    if (Number.isNaN(value) && raw !== 'nan') throw new Error(`bad value, ${where}`);
    samples.push({ name, labels: parseLabels(match[2] ?? '', where), value });
  });
  return samples;
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text);
    if (!match) throw new Error(`bad labels, ${where}`);
    labels[match[1] ?? ''] = (match[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

/** The sum of the samples named `name` whose labels include `labels`; undefined when none match. */
export function sumSamples(
  samples: readonly Sample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found.length === 0 ? undefined : found.reduce((sum, s) => sum + s.value, 0);
}
