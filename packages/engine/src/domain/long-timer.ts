/**
 * The longest delay Node's timers honour: 2^31−1 ms (about 24.8 days). A longer delay is not
 * refused: Node warns and fires after 1 ms, which is how `timeout: 25d` ended an action after
 * 58 ms.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Cancels a timer; safe to call again and after it fired. */
export type CancelTimer = () => void;

/**
 * Call `fn` once after `ms` milliseconds, for any duration (a timeout of 30 days, an approval
 * of a year): delays over MAX_TIMER_MS are waited in slices. Negative or NaN delays fire at
 * once; `Infinity` never fires. Returns the cancel function. The timer does not keep the
 * process alive when `unref` is set.
 */
export function setLongTimeout(fn: () => void, ms: number, options: { unref?: boolean } = {}): CancelTimer {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let cancelled = false;
  if (ms === Infinity) return () => undefined;
  const arm = (left: number): void => {
    const slice = Math.min(Math.max(0, Number.isNaN(left) ? 0 : left), MAX_TIMER_MS);
    timer = setTimeout(() => {
      if (cancelled) return;
      if (left > MAX_TIMER_MS) arm(left - MAX_TIMER_MS);
      else fn();
    }, slice);
    if (options.unref) timer.unref();
  };
  arm(ms);
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}
