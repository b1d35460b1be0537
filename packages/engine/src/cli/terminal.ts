/**
 * Terminal conventions of the CLI, decided once per process: colour only on a terminal and never
 * with NO_COLOR or --no-color; Unicode glyphs only where the locale is UTF-8 (else, or with
 * PILOTAGE_ASCII=1, ASCII ones).
 */

/** What decides the style of one output stream. */
export interface TerminalInput {
  /** the process environment */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** the stream is a terminal */
  readonly isTTY: boolean;
  /** `--no-color` was given */
  readonly noColorFlag: boolean;
}

/** How one output stream is written. */
export interface TerminalStyle {
  /** SGR colours (never when `NO_COLOR`, `--no-color`, `TERM=dumb` or not a terminal) */
  readonly color: boolean;
  /** ASCII glyphs only */
  readonly ascii: boolean;
  /** redrawing in place is possible: a terminal that is not `TERM=dumb` */
  readonly redraw: boolean;
}

/**
 * The style of a stream. Colour: `--no-color` or a non-empty NO_COLOR (https://no-color.org) turn
 * it off; else a non-empty FORCE_COLOR other than `0` turns it on; else a terminal whose TERM is
 * not `dumb`. ASCII: PILOTAGE_ASCII=1 (or `true`) forces it, `0` (or `false`) forbids it; else the
 * locale decides (LC_ALL, else LC_CTYPE, else LANG; unset is the C locale): ASCII unless it names
 * UTF-8. Pure.
 */
export function terminalStyle(input: TerminalInput): TerminalStyle {
  const { env } = input;
  const set = (name: string): string | undefined =>
    env[name] === undefined || env[name] === '' ? undefined : env[name];
  const dumb = env['TERM'] === 'dumb';
  let color: boolean;
  if (input.noColorFlag || set('NO_COLOR') !== undefined) color = false;
  else if (set('FORCE_COLOR') !== undefined) color = env['FORCE_COLOR'] !== '0';
  else color = input.isTTY && !dumb;
  const forced = set('PILOTAGE_ASCII')?.toLowerCase();
  const locale = set('LC_ALL') ?? set('LC_CTYPE') ?? set('LANG') ?? 'C';
  const ascii =
    forced === '1' || forced === 'true' ? true : forced === '0' || forced === 'false' ? false : !/utf-?8/i.test(locale);
  return { color, ascii, redraw: input.isTTY && !dumb };
}

/** The glyphs of the CLI's drawings, Unicode or ASCII. */
export interface Glyphs {
  /** one per run and task run state; `?` for an unknown one */
  readonly state: Readonly<Record<string, string>>;
  /** tree: a branch with more below, the last branch, the line down past a branch */
  readonly branch: string;
  readonly lastBranch: string;
  readonly pipe: string;
  /** a cut-off text */
  readonly ellipsis: string;
  /** between steps in order */
  readonly arrow: string;
  /** before a log line; before a failure */
  readonly bar: string;
  readonly cross: string;
  readonly check: string;
  /** between a result and the run id */
  readonly dash: string;
}

export const UNICODE_GLYPHS: Glyphs = {
  state: {
    queued: '○',
    pending: '○',
    starting: '◔',
    running: '◑',
    succeeded: '✔',
    failed: '✘',
    errored: '!',
    cancelled: '⊘',
    skipped: '↷',
  },
  branch: '├─',
  lastBranch: '└─',
  pipe: '│',
  ellipsis: '…',
  arrow: '→',
  bar: '│',
  cross: '✘',
  check: '✔',
  dash: '—',
};

export const ASCII_GLYPHS: Glyphs = {
  state: {
    queued: '.',
    pending: '.',
    starting: '-',
    running: '>',
    succeeded: '+',
    failed: 'x',
    errored: '!',
    cancelled: '/',
    skipped: '~',
  },
  branch: '|-',
  lastBranch: '`-',
  pipe: '|',
  ellipsis: '...',
  arrow: '->',
  bar: '|',
  cross: 'x',
  check: '+',
  dash: '-',
};

/** Colours a text, or leaves it as is when the stream has no colour. */
export interface Paint {
  /** a state word or icon, in the state's colour (green done, red failed, yellow going, dim idle) */
  state(state: string, text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

const SGR_BY_STATE: Readonly<Record<string, string>> = {
  succeeded: '32',
  failed: '31',
  errored: '31',
  running: '33',
  starting: '33',
  cancelled: '35',
  skipped: '2',
  queued: '2',
  pending: '2',
};

const sgr = (code: string, text: string): string => `\u001b[${code}m${text}\u001b[0m`;

/** Paint that colours (`color` true) or leaves every text as is. */
export function paintFor(color: boolean): Paint {
  if (!color) return { state: (_state, text) => text, bold: (text) => text, dim: (text) => text };
  return {
    state: (state, text) => {
      const code = SGR_BY_STATE[state];
      return code === undefined ? text : sgr(code, text);
    },
    bold: (text) => sgr('1', text),
    dim: (text) => sgr('2', text),
  };
}

/** A stream's style with what draws with it. */
export interface Look extends TerminalStyle {
  readonly glyphs: Glyphs;
  readonly paint: Paint;
}

/** The look of a style. */
export function lookOf(style: TerminalStyle): Look {
  return { ...style, glyphs: style.ascii ? ASCII_GLYPHS : UNICODE_GLYPHS, paint: paintFor(style.color) };
}

const looks = new Map<NodeJS.WriteStream, Look>();

/**
 * The look of `stream` (stdout by default) for this process, from its environment and argv
 * (`--no-color` anywhere before `--`); decided once per stream.
 */
export function look(stream: NodeJS.WriteStream = process.stdout): Look {
  let found = looks.get(stream);
  if (found === undefined) {
    const args = process.argv.slice(2);
    const end = args.indexOf('--');
    const noColorFlag = (end === -1 ? args : args.slice(0, end)).includes('--no-color');
    found = lookOf(terminalStyle({ env: process.env, isTTY: stream.isTTY === true, noColorFlag }));
    looks.set(stream, found);
  }
  return found;
}
