#!/usr/bin/env node
// Part of `npm run build`, after tsc: bundles the pure-JavaScript dependencies whose many small
// modules cost the CLI most of its start-up (kysely alone is 262 files) into one file each,
// packages/engine/dist/vendor/<name>.js, and points the compiled imports of dist/ at them. The
// sources, and the tests run from them through tsx, keep importing the packages themselves; the
// bundles are the same code in fewer files (see bench/README.md, "Start-up"). Fails when a
// compiled module imports a name a bundle does not export, or a bundled package some other way.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const engine = fileURLToPath(new URL('../packages/engine/', import.meta.url));
const dist = join(engine, 'dist');

/**
 * Each bundle and the specifiers it stands for: `'*'` re-exports all of one, a list only those
 * names. Specifiers of one package share one bundle, so its classes stay one (`instanceof`).
 * A `.cjs` bundle is CommonJS, for a package that src/plan/on-first-use.ts loads with `require`
 * when first used (CEL has no CommonJS build of its own): its `require('specifier')` calls are
 * pointed at the bundle, which holds what each of its specifiers exports.
 */
export const BUNDLES = {
  'kysely.js': { kysely: '*' },
  'yaml.cjs': { yaml: '*' },
  'cel-js.cjs': { '@marcbachmann/cel-js': '*', '@marcbachmann/cel-js/evaluator': ['Duration', 'UnsignedInt'] },
};

const isCommonJs = (file) => file.endsWith('.cjs');

async function bundle(file, specifiers) {
  const contents = Object.entries(specifiers)
    .map(([specifier, names]) =>
      names === '*' ? `export * from '${specifier}';` : `export { ${names.join(', ')} } from '${specifier}';`,
    )
    .join('\n');
  await build({
    stdin: { contents, resolveDir: engine, loader: 'js' },
    bundle: true,
    format: isCommonJs(file) ? 'cjs' : 'esm',
    // the packages' ES module builds (yaml's `node` condition is CommonJS, whose named exports a
    // bundle could not re-export); Node's built-ins stay imports
    platform: 'neutral',
    conditions: ['import', 'module', 'default'],
    mainFields: ['module', 'main'],
    external: ['node:*'],
    target: 'node20',
    // smaller to read and parse; names are kept, for readable stack traces
    minifyWhitespace: true,
    minifySyntax: true,
    outfile: join(dist, 'vendor', file),
    legalComments: 'eof',
    logLevel: 'warning',
  });
}

function jsFiles(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      if (name !== 'vendor') jsFiles(full, out);
    } else if (name.endsWith('.js')) out.push(full);
  }
  return out;
}

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Point `from 'specifier'` and `import('specifier')` of every compiled module at its bundle, and
 * check each named import against what the bundle exports. Returns how many files changed.
 */
async function rewrite() {
  const exported = {};
  for (const file of Object.keys(BUNDLES)) {
    exported[file] = new Set(Object.keys(await import(pathToFileURL(join(dist, 'vendor', file)).href)));
  }
  const problems = [];
  let changed = 0;
  for (const file of jsFiles(dist)) {
    const text = readFileSync(file, 'utf8');
    let next = text;
    for (const [bundleFile, specifiers] of Object.entries(BUNDLES)) {
      let target = relative(dirname(file), join(dist, 'vendor', bundleFile));
      if (!target.startsWith('.')) target = `./${target}`;
      // how a compiled module names it: `import … from` or `import()` for an ES module bundle,
      // `require()` for a CommonJS one
      const call = isCommonJs(bundleFile) ? 'require\\(\\s*' : 'from\\s*|import\\(\\s*';
      for (const specifier of Object.keys(specifiers)) {
        next = next.replace(new RegExp(`(${call})(['"])${escape(specifier)}\\2`, 'g'), `$1$2${target}$2`);
      }
      for (const match of next.matchAll(
        new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*(['"])${escape(target)}\\2`, 'g'),
      )) {
        for (const item of match[1].split(',')) {
          const name = item.trim().split(/\s+as\s+/)[0];
          if (name !== '' && !exported[bundleFile].has(name))
            problems.push(`${relative(dist, file)}: ${name} is not exported by vendor/${bundleFile}`);
        }
      }
    }
    const bundledPackages = [
      ...new Set(
        Object.values(BUNDLES).flatMap((s) =>
          Object.keys(s).map((k) =>
            k
              .split('/')
              .slice(0, k.startsWith('@') ? 2 : 1)
              .join('/'),
          ),
        ),
      ),
    ];
    for (const pkg of bundledPackages) {
      if (new RegExp(`(from\\s*|import\\(\\s*|require\\(\\s*)(['"])${escape(pkg)}(/[^'"]*)?\\2`).test(next)) {
        problems.push(`${relative(dist, file)} imports ${pkg} outside its bundle: add the specifier to BUNDLES`);
      }
    }
    if (next !== text) {
      writeFileSync(file, next);
      changed += 1;
    }
  }
  if (problems.length > 0) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  return changed;
}

// only this script writes there: a bundle no longer listed goes
rmSync(join(dist, 'vendor'), { recursive: true, force: true });
for (const [file, specifiers] of Object.entries(BUNDLES)) await bundle(file, specifiers);
const changed = await rewrite();
console.log(`bundled ${Object.keys(BUNDLES).join(', ')} into dist/vendor (${changed} compiled modules rewritten)`);
