#!/usr/bin/env node
// The `pilotage` command. It lives outside dist/ so that `npm install` on a fresh clone can link it
// before `prepare` has built dist/ (npm links a bin only if its file exists at install time; a
// missing one made `npx pilotage` ask the registry for a stranger's package instead).
import { existsSync } from 'node:fs';

// the command as one bundle (scripts/bundle-cli.mjs): a few files to load instead of ~260
const main = new URL('../dist/bundle/pilotage.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('pilotage is not built yet: run `npm run build` at the root of the repository.\n');
  process.exit(2);
}
await import(main.href);
