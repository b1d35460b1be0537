import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type Docker from 'dockerode';
import { parse as parseYaml } from 'yaml';
import { buildComponentImage } from '../../src/executor/docker/build-image.js';

/**
 * Images built locally for the tests and the example components (no registry is reachable).
 * Each is a single-layer root filesystem imported through the API, made of host files:
 * - base: busybox-static with all its applets (sh, wget, sleep, cat, sha256sum, …);
 * - node: base + the host's node binary and the shared libraries it loads, and the Pilotage
 *   SDK at /node_modules/@pilotage/sdk (so `import '@pilotage/sdk'` resolves from /component);
 * - python: base + Debian's python3.11 with its standard library and the libraries its
 *   extension modules load.
 * An image is rebuilt when its recipe's inputs change (label `dev.pilotage.recipe`).
 */
export const TEST_IMAGES = {
  base: 'localhost/pilotage/base:latest',
  node: 'localhost/pilotage/node:20',
  python: 'localhost/pilotage/python:3.11',
} as const;

export type TestImageName = keyof typeof TEST_IMAGES;

const RECIPE_LABEL = 'dev.pilotage.recipe';
const SOURCE_LABEL = 'dev.pilotage.source';
const REPO_ROOT = join(dirname(new URL(import.meta.url).pathname), '..', '..', '..', '..');
const SDK_DIR = join(REPO_ROOT, 'packages', 'sdk');
const PYTHON = '/usr/bin/python3.11';
const PYTHON_LIB = '/usr/lib/python3.11';
const PYTHON_SKIP = new Set([
  'test',
  'idlelib',
  'tkinter',
  'turtledemo',
  'ensurepip',
  'lib2to3',
  'pydoc_data',
  'site-packages',
]);
const LOCK_FILE = join(tmpdir(), 'pilotage-test-images.lock');
const LOCK_WAIT_MS = 10 * 60_000;

/** A root filesystem being assembled in a temp dir. */
class Rootfs {
  readonly inputs: string[] = [];
  readonly #seen = new Set<string>();
  /** with `dryRun`, only the inputs are recorded (to tell whether the image is up to date) */
  constructor(
    readonly dir: string,
    readonly dryRun: boolean,
  ) {}

  async file(hostPath: string, at: string = hostPath, mode?: number): Promise<void> {
    if (this.#seen.has(at)) return;
    this.#seen.add(at);
    const info = statSync(hostPath);
    this.inputs.push(`${at}:${info.size}:${info.mtimeMs}`);
    if (this.dryRun) return;
    const target = join(this.dir, at);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(hostPath, target);
    if (mode !== undefined) await chmod(target, mode);
  }

  async text(at: string, content: string): Promise<void> {
    this.inputs.push(`${at}:${createHash('sha256').update(content).digest('hex')}`);
    if (this.dryRun) return;
    const target = join(this.dir, at);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }

  async link(at: string, target: string): Promise<void> {
    this.inputs.push(`${at}->${target}`);
    if (this.dryRun) return;
    const path = join(this.dir, at);
    if (existsSync(path)) return;
    await mkdir(dirname(path), { recursive: true });
    await symlink(target, path);
  }

  /** Copy a binary and every shared library `ldd` lists for it, at their host paths. */
  async binaryWithLibraries(hostPath: string, at: string = hostPath): Promise<void> {
    await this.file(hostPath, at);
    for (const library of sharedLibraries(hostPath)) await this.file(library);
  }

  /** Create directories (recorded as inputs too). */
  async dirs(paths: readonly string[], mode?: number): Promise<void> {
    this.inputs.push(`dirs:${paths.join(',')}:${mode ?? ''}`);
    if (this.dryRun) return;
    for (const path of paths) {
      await mkdir(join(this.dir, path), { recursive: true });
      if (mode !== undefined) await chmod(join(this.dir, path), mode);
    }
  }

  /** Copy a directory tree (following symlinks), skipping the top-level names in `skip`. */
  async tree(hostDir: string, at: string, skip: ReadonlySet<string> = new Set()): Promise<void> {
    for (const entry of await readdir(hostDir, { withFileTypes: true })) {
      if (skip.has(entry.name)) continue;
      const from = join(hostDir, entry.name);
      const info = await stat(from).catch(() => undefined);
      if (info === undefined) continue;
      if (info.isDirectory()) await this.tree(from, join(at, entry.name));
      else if (info.isFile()) await this.file(from, join(at, entry.name));
    }
  }
}

/** Absolute paths of the shared libraries `ldd` reports for a binary (none for a static one). */
function sharedLibraries(binary: string): string[] {
  const result = spawnSync('ldd', [binary], { encoding: 'utf8' });
  if (result.status !== 0) return [];
  const paths = new Set<string>();
  for (const line of result.stdout.split('\n')) {
    const match = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (match?.[1] !== undefined) paths.add(match[1]);
  }
  return [...paths];
}

function busyboxPath(): string {
  if (existsSync('/bin/busybox')) return '/bin/busybox';
  const found = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();
  if (found === '') throw new Error('busybox not found; apt-get install busybox-static');
  return found;
}

async function addBase(root: Rootfs): Promise<void> {
  const busybox = busyboxPath();
  if (sharedLibraries(busybox).length > 0) throw new Error(`${busybox} is not static; apt-get install busybox-static`);
  await root.file(busybox, '/bin/busybox', 0o755);
  const applets = spawnSync(busybox, ['--list-full'], { encoding: 'utf8' }).stdout.split('\n');
  for (const applet of applets) {
    if (applet === '' || applet === 'bin/busybox') continue;
    await root.link(applet, '/bin/busybox');
  }
  await root.text(
    '/etc/passwd',
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  await root.text('/etc/group', 'root:x:0:\nnogroup:x:65534:\n');
  await root.dirs(['root', 'workspace', 'component', 'proc', 'sys', 'dev', 'run']);
  await root.dirs(['tmp', 'var/tmp'], 0o1777);
}

async function addNode(root: Rootfs): Promise<void> {
  await root.binaryWithLibraries(process.execPath, '/usr/local/bin/node');
  const dist = join(SDK_DIR, 'dist');
  if (!existsSync(join(dist, 'index.js'))) {
    throw new Error(`the SDK is not built (${dist}/index.js missing): run npm run build first`);
  }
  await root.file(join(SDK_DIR, 'package.json'), '/node_modules/@pilotage/sdk/package.json');
  await root.tree(dist, '/node_modules/@pilotage/sdk/dist');
}

async function addPython(root: Rootfs): Promise<void> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found; apt-get install python3`);
  await root.binaryWithLibraries(PYTHON);
  await root.link('/usr/bin/python3', 'python3.11');
  await root.link('/usr/bin/python', 'python3.11');
  await root.tree(PYTHON_LIB, PYTHON_LIB, PYTHON_SKIP);
  const dynload = join(PYTHON_LIB, 'lib-dynload');
  for (const name of await readdir(dynload)) {
    for (const library of sharedLibraries(join(dynload, name))) await root.file(library);
  }
}

const RECIPES: Record<TestImageName, { changes: string[]; add: (root: Rootfs) => Promise<void> }> = {
  base: { changes: [], add: addBase },
  node: {
    changes: [],
    add: async (root) => {
      await addBase(root);
      await addNode(root);
    },
  },
  python: {
    changes: ['ENV PYTHONDONTWRITEBYTECODE=1', 'ENV PYTHONUNBUFFERED=1'],
    add: async (root) => {
      await addBase(root);
      await addPython(root);
    },
  },
};

const COMMON_CHANGES = ['ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', 'WORKDIR /workspace'];

/** Hold a lock shared by every test process of this machine while `work` runs. */
async function withImageLock<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(LOCK_FILE, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(await readFile(LOCK_FILE, 'utf8').catch(() => ''));
      if (Number.isInteger(holder) && holder > 0 && !alive(holder)) await unlink(LOCK_FILE).catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK_FILE}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await work();
  } finally {
    await unlink(LOCK_FILE).catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function labelOf(docker: Docker, image: string, label: string): Promise<string | undefined> {
  try {
    const info = await docker.getImage(image).inspect();
    return info.Config.Labels?.[label] ?? '';
  } catch {
    return undefined;
  }
}

/** Tar `dir` (numeric root ownership) and import it as `image` with `changes` applied. */
async function importRootfs(docker: Docker, dir: string, image: string, changes: string[]): Promise<void> {
  const tar = spawn('tar', ['-C', dir, '--numeric-owner', '--owner=0', '--group=0', '-cf', '-', '.'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tarError = '';
  tar.stderr.on('data', (chunk: Buffer) => (tarError += chunk.toString()));
  const stream = await docker.importImage(tar.stdout, { changes });
  const events = await new Promise<Array<{ status?: string; error?: string }>>((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, output: Array<{ status?: string; error?: string }>) =>
      error === null ? resolve(output) : reject(error),
    );
  });
  const failed = events.find((event) => event.error !== undefined);
  const id = events.at(-1)?.status;
  if (failed !== undefined || id === undefined || tarError !== '') {
    throw new Error(`importing ${image} failed: ${failed?.error ?? tarError ?? 'no image id'}`);
  }
  const colon = image.lastIndexOf(':');
  await docker.getImage(id).tag({ repo: image.slice(0, colon), tag: image.slice(colon + 1) });
}

/**
 * Make the named test images present (default: all), building those missing or stale.
 * Safe to call from several test processes at once (a lock file serialises the builds).
 */
export async function ensureTestImages(
  docker: Docker,
  names: readonly TestImageName[] = ['base', 'node', 'python'],
): Promise<void> {
  await withImageLock(async () => {
    for (const name of names) {
      const image = TEST_IMAGES[name];
      const recipe = RECIPES[name];
      const planned = new Rootfs('/nonexistent', true);
      await recipe.add(planned);
      const hash = createHash('sha256')
        .update(planned.inputs.join('\n'))
        .update(recipe.changes.join('\n'))
        .digest('hex')
        .slice(0, 16);
      if ((await labelOf(docker, image, RECIPE_LABEL)) === hash) continue;
      const dir = await mkdtemp(join(tmpdir(), `pilotage-rootfs-${name}-`));
      try {
        await recipe.add(new Rootfs(dir, false));
        await importRootfs(docker, dir, image, [...COMMON_CHANGES, ...recipe.changes, `LABEL ${RECIPE_LABEL}=${hash}`]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  });
}

/** Hash of a folder's files (names, modes and contents), to rebuild an image only when it changed. */
async function folderHash(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (current: string): Promise<void> => {
    for (const entry of (await readdir(current, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const info = await stat(path);
        hash.update(`${relative(dir, path)}\0${info.mode}\0`).update(await readFile(path));
      }
    }
  };
  await walk(dir);
  return hash.digest('hex').slice(0, 16);
}

/**
 * Build the image of every example component (components/<name>/ with a Dockerfile), tagged
 * with the `image` of its component.yaml, after the test images they build FROM. An image
 * whose folder did not change since its last build is kept. Returns the tags.
 */
export async function ensureComponentImages(
  docker: Docker,
  componentsDir: string = join(REPO_ROOT, 'components'),
): Promise<string[]> {
  await ensureTestImages(docker);
  const tags: string[] = [];
  await withImageLock(async () => {
    for (const name of (await readdir(componentsDir)).sort()) {
      const dir = join(componentsDir, name);
      if (!existsSync(join(dir, 'Dockerfile')) || !existsSync(join(dir, 'component.yaml'))) continue;
      const manifest = parseYaml(readFileSync(join(dir, 'component.yaml'), 'utf8')) as {
        name?: string;
        version?: string;
        image?: string;
      };
      const tag = manifest.image ?? `${manifest.name ?? name}:${manifest.version ?? 'latest'}`;
      const source = await folderHash(dir);
      tags.push(tag);
      if ((await labelOf(docker, tag, SOURCE_LABEL)) === source) continue;
      const output: string[] = [];
      try {
        await buildComponentImage(docker, dir, tag, (line) => output.push(line), {
          labels: { [SOURCE_LABEL]: source },
        });
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${output.join('\n')}`, { cause: error });
      }
    }
  });
  return tags;
}
