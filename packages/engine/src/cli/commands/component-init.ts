import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConflictError, ValidationError } from '../../domain/errors.js';
import { NAME_PATTERN } from '../../plan/schema-defs.js';
import { packagePath } from '../../package-folder.js';
import { EXIT, print, reportError } from '../output.js';

/** The languages `pilotage component init` scaffolds, and the base image of each. */
export const INIT_LANGUAGES = {
  sh: { base: 'localhost/pilotage/base:latest' },
  node: { base: 'localhost/pilotage/node:20' },
  python: { base: 'localhost/pilotage/python:3.11' },
} as const;

export type InitLanguage = keyof typeof INIT_LANGUAGES;

/**
 * Where the scaffolds live: packages/engine/templates/component/<lang>/ (found from src/, dist/ or
 * the bundle: package-folder.ts). Their placeholders are TEMPLATE_NAME, TEMPLATE_VERSION, TEMPLATE_IMAGE and
 * TEMPLATE_BASE: plain words, so that the files stay valid YAML, shell, Python… for the tools.
 */
const TEMPLATES = packagePath('templates', 'component');

/** Options of `initComponent`. */
export interface InitOptions {
  readonly name: string;
  readonly lang: InitLanguage;
  /** the folder to create; default `./<name>` */
  readonly dir?: string;
  /** the Dockerfile's FROM; default per language (INIT_LANGUAGES) */
  readonly base?: string;
  /** the component's image; default `localhost/<name>:<version>` */
  readonly image?: string;
  /** default 0.1.0 */
  readonly version?: string;
}

/**
 * Scaffold a component folder: component.yaml (strict contract, `name` input, `greeting`
 * output), the program (`main.sh`, `main.mjs` or `main.py`, executable), a Dockerfile (`FROM`
 * the language's base image, the folder copied to /component) and a README. It passes
 * `pilotage component test` as is, and builds with `pilotage component build`. Throws a
 * ValidationError for a bad name or language, a ConflictError when the folder exists and is not
 * empty. Returns the folder and the files written.
 */
export async function initComponent(options: InitOptions): Promise<{ dir: string; files: string[] }> {
  const { name, lang } = options;
  if (!new RegExp(NAME_PATTERN).test(name) || name.length > 63) {
    throw new ValidationError(
      `invalid component name "${name}": lowercase letters, digits and "-", starting and ending with a letter or digit`,
    );
  }
  if (!Object.hasOwn(INIT_LANGUAGES, lang)) {
    throw new ValidationError(`unknown language "${String(lang)}": use ${Object.keys(INIT_LANGUAGES).join(', ')}`);
  }
  const version = options.version ?? '0.1.0';
  const dir = resolve(options.dir ?? name);
  const existing = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (existing.length > 0) throw new ConflictError(`${dir} exists and is not empty: choose another --dir`);
  const values: Record<string, string> = {
    NAME: name,
    VERSION: version,
    IMAGE: options.image ?? `localhost/${name}:${version}`,
    BASE: options.base ?? INIT_LANGUAGES[lang].base,
  };
  await mkdir(dir, { recursive: true });
  const source = join(TEMPLATES, lang);
  const files: string[] = [];
  for (const file of (await readdir(source)).sort()) {
    const text = await readFile(join(source, file), 'utf8');
    const target = join(dir, file);
    await writeFile(
      target,
      text.replace(/TEMPLATE_(NAME|VERSION|IMAGE|BASE)/g, (_, key: string) => values[key] ?? ''),
    );
    // the program keeps its executable bit: the local executor and the image run it directly
    if (((await stat(join(source, file))).mode & 0o111) !== 0) await chmod(target, 0o755);
    files.push(basename(target));
  }
  return { dir, files };
}

interface Flags {
  lang: string;
  dir?: string;
  base?: string;
  image?: string;
  json?: boolean;
}

/** `pilotage component init NAME --lang sh|node|python`: scaffold a component folder. */
export function registerComponentInit(component: Command): void {
  component
    .command('init')
    .description('scaffold a component folder (component.yaml, program, Dockerfile, README)')
    .argument('<name>', 'the component name (lowercase letters, digits, "-")')
    .requiredOption('--lang <lang>', `the language: ${Object.keys(INIT_LANGUAGES).join(', ')}`)
    .option('--dir <path>', 'the folder to create (default ./<name>)')
    .option('--base <image>', "the Dockerfile's base image (default per language: localhost/pilotage/…)")
    .option('--image <image>', 'the image of the component (default localhost/<name>:0.1.0)')
    .option('--json', 'JSON output')
    .action(async (name: string, flags: Flags) => {
      try {
        const created = await initComponent({
          name,
          lang: flags.lang as InitLanguage,
          ...(flags.dir === undefined ? {} : { dir: flags.dir }),
          ...(flags.base === undefined ? {} : { base: flags.base }),
          ...(flags.image === undefined ? {} : { image: flags.image }),
        });
        if (flags.json) print(created);
        else {
          print(`created ${created.dir}: ${created.files.join(', ')}`);
          print(`next: pilotage component test ${join(created.dir, 'component.yaml')}`);
          print(`      pilotage component build ${created.dir}`);
        }
        process.exitCode = EXIT.ok;
      } catch (error) {
        process.exitCode = reportError(error, flags.json === true);
      }
    });
}
