import { ValidationError } from '../../domain/errors.js';

const BLOCK = 512;

/** Options of `tarFiles`. */
export interface TarFilesOptions {
  /** modification time of every entry, seconds since the epoch; default 0 (reproducible) */
  readonly mtimeSec?: number;
  /** mode of regular files; default 0o644 (directories get 0o755) */
  readonly fileMode?: number;
}

/**
 * A POSIX ustar archive holding `files` (relative path → UTF-8 content), preceded by an entry
 * for each parent directory, owned by uid/gid 0. This is what the Docker Engine API's archive
 * upload takes; we write it ourselves because the format is small and the content is tiny
 * (volume initial data). Paths must be relative, without `.`/`..` or empty segments, and fit
 * ustar's limits (a name of ≤ 100 bytes after a directory prefix of ≤ 155 bytes); anything
 * else is a ValidationError naming the path. Pure.
 */
export function tarFiles(files: Readonly<Record<string, string>>, options: TarFilesOptions = {}): Buffer {
  const mtime = options.mtimeSec ?? 0;
  const fileMode = options.fileMode ?? 0o644;
  const dirs = new Set<string>();
  const entries = Object.keys(files)
    .sort()
    .map((path) => {
      const segments = checkedSegments(path);
      for (let i = 1; i < segments.length; i++) dirs.add(segments.slice(0, i).join('/'));
      return { path: segments.join('/'), content: Buffer.from(files[path] ?? '', 'utf8') };
    });

  const blocks: Buffer[] = [];
  for (const dir of [...dirs].sort()) blocks.push(header(`${dir}/`, 0, 0o755, '5', mtime));
  for (const { path, content } of entries) {
    blocks.push(header(path, content.length, fileMode, '0', mtime));
    blocks.push(content);
    const padding = (BLOCK - (content.length % BLOCK)) % BLOCK;
    if (padding > 0) blocks.push(Buffer.alloc(padding));
  }
  // The end of an archive: two zero blocks.
  blocks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(blocks);
}

function checkedSegments(path: string): string[] {
  const segments = path.split('/');
  const bad =
    path.length === 0 ||
    path.startsWith('/') ||
    segments.some((segment) => segment === '' || segment === '.' || segment === '..');
  if (bad) {
    throw new ValidationError(
      `invalid file name "${path}" in volume initial data: use a relative path without '.', '..' or empty parts`,
    );
  }
  return segments;
}

function header(path: string, size: number, mode: number, type: '0' | '5', mtime: number): Buffer {
  const { name, prefix } = splitName(path);
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'utf8');
  writeOctal(block, 100, 8, mode);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, mtime);
  block.fill(' ', 148, 156);
  block.write(type, 156, 1, 'ascii');
  block.write('ustar\0', 257, 6, 'ascii');
  block.write('00', 263, 2, 'ascii');
  block.write('root', 265, 32, 'ascii');
  block.write('root', 297, 32, 'ascii');
  block.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return block;
}

/** ustar keeps long names as `prefix` + `/` + `name`, cut at a slash. */
function splitName(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
    const prefix = path.slice(0, slash);
    const name = path.slice(slash + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) {
      return { name, prefix };
    }
  }
  throw new ValidationError(`file name "${path}" in volume initial data is too long for a tar archive`);
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'ascii');
}
