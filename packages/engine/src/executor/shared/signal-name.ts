import { constants } from 'node:os';

/** `SIGTERM` for 15: the name of a signal number, as exit codes above 128 carry it. */
export function signalName(number: number): string | undefined {
  for (const [name, value] of Object.entries(constants.signals)) if (value === number) return name;
  return undefined;
}
