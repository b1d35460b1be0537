import { EXIT } from './output.js';

/** What `cancelOnInterrupt` returns. */
export interface Interrupt {
  /** whether the run was asked to cancel by a signal */
  readonly interrupted: () => boolean;
  /** remove the signal handlers (always, once the run is followed to its end) */
  readonly dispose: () => void;
}

/**
 * While a run is followed: the first SIGINT or SIGTERM says so on stderr and calls `cancel`; a
 * second one exits at once with 130. While `canCancel` is false (nothing started yet), the first
 * one exits at once too.
 */
export function cancelOnInterrupt(cancel: () => void, canCancel: () => boolean = () => true): Interrupt {
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted || !canCancel()) process.exit(EXIT.interrupted);
    interrupted = true;
    process.stderr.write('\ncancelling (Ctrl-C again to quit at once)\n');
    cancel();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    interrupted: () => interrupted,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
