import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { ConfigError } from '../domain/errors.js';

/** The key that encrypts the secret store, and where it came from. */
export interface EncryptionKey {
  readonly key: string;
  /** `config` (PILOTAGE_ENCRYPTION_KEY), or the path of the key file */
  readonly source: string;
  /** true when this call generated the key file */
  readonly created: boolean;
}

/** Name of the generated key file inside the data folder. */
export const ENCRYPTION_KEY_FILE = 'encryption.key';

/**
 * `config.encryptionKey` when set; otherwise the key in `<dataDir>/encryption.key`, generated on
 * first use (32 random bytes, base64url, mode 0600; created exclusively, so two processes starting
 * together share one key). Throws ConfigError when the file exists but is empty or unreadable.
 */
export async function resolveEncryptionKey(config: Pick<Config, 'encryptionKey' | 'dataDir'>): Promise<EncryptionKey> {
  if (config.encryptionKey !== undefined && config.encryptionKey !== '') {
    return { key: config.encryptionKey, source: 'config', created: false };
  }
  const file = join(config.dataDir, ENCRYPTION_KEY_FILE);
  await mkdir(config.dataDir, { recursive: true });
  let created = false;
  try {
    await writeFile(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new ConfigError(`cannot create ${file}: ${(error as Error).message} (or set PILOTAGE_ENCRYPTION_KEY)`);
    }
  }
  let key = '';
  // another process may have created the file an instant ago and not written it yet
  for (let tries = 0; key === '' && tries < 20; tries++) {
    if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    try {
      key = (await readFile(file, 'utf8')).trim();
    } catch (error) {
      throw new ConfigError(`cannot read ${file}: ${(error as Error).message} (or set PILOTAGE_ENCRYPTION_KEY)`);
    }
  }
  if (key === '')
    throw new ConfigError(`${file} is empty; delete it to generate a new key, or set PILOTAGE_ENCRYPTION_KEY`);
  return { key, source: file, created };
}
