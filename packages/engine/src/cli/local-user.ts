import { userInfo } from 'node:os';

/** Who runs the CLI, as a run's trigger or a decision records it: the OS user name (`cli` where the OS has none). */
export function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'cli';
  }
}
