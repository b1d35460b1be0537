/**
 * Telling stderr from stdout in a pod's log. The Kubernetes log API (1.20) merges a container's
 * two streams into one, so the executor runs a shell component through a small POSIX `sh`
 * wrapper that writes each stderr line to stderr prefixed with an ASCII record separator
 * (0x1E): the executor reads the mark back as `stream: 'stderr'` and drops it. stdout is
 * untouched; the wrapper forwards SIGTERM to the component, waits for the last stderr line and
 * exits with the component's status. Without `mkfifo` or a writable /tmp it runs the component
 * directly (its stderr is then read as stdout). Components not started through a shell are
 * never wrapped (their image need not have one): their stderr lines are read as stdout.
 */

/** The mark that starts a stderr line in the merged log. */
export const STDERR_MARK = '\u001e';

const WRAPPER = [
  `p=$(mktemp -u 2>/dev/null) || p=/tmp/.pilotage-stderr.$$`,
  `mkfifo "$p" 2>/dev/null || exec "$@"`,
  `while IFS= read -r l || [ -n "$l" ]; do printf '\\036%s\\n' "$l"; done <"$p" >&2 &`,
  `r=$!`,
  // trapped before the component starts: a SIGTERM in between (a loaded node) is passed on
  // once it runs, instead of ending the wrapper (or, as PID 1, being ignored)
  `c= t=`,
  `trap 't=1; [ -z "$c" ] || kill -TERM $c 2>/dev/null' TERM INT HUP`,
  `"$@" 2>"$p" &`,
  `c=$!`,
  `[ -z "$t" ] || kill -TERM $c 2>/dev/null`,
  // a trapped signal ends `wait` early (status > 128) while the component may run on, or may
  // already be gone (reaped, its status kept): wait again for its own status; 127 means it was
  // already reported, so the status before it was its own
  `s=`,
  `while :; do t=; wait $c; w=$?; [ $w -eq 127 ] && [ -n "$s" ] && break; s=$w; [ -n "$t" ] && [ $w -gt 128 ] || break; done`,
  `wait $r; rm -f "$p"`,
  `exit $s`,
].join('\n');

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'ksh', 'zsh']);

/** The command to run instead of `command`: wrapped when it starts a shell, else `command` itself. */
export function withStderrTag(command: readonly string[]): readonly string[] {
  const first = command[0];
  if (first === undefined || !SHELLS.has(first.slice(first.lastIndexOf('/') + 1))) return command;
  // the wrapper is POSIX sh: it runs under the component's own shell
  return [first, '-c', WRAPPER, 'pilotage-stderr-tag', ...command];
}

/** A merged log line as stdout or stderr (the mark removed). */
export function streamOf(line: string): { readonly stream: 'stdout' | 'stderr'; readonly line: string } {
  return line.startsWith(STDERR_MARK)
    ? { stream: 'stderr', line: line.slice(STDERR_MARK.length) }
    : { stream: 'stdout', line };
}
