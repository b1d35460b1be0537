import type { Command } from 'commander';

/**
 * Examples shown at the end of each command's `--help`, by command path (`runs list`). Every
 * command has some: help-examples.test.ts fails when one is missing.
 */
export const HELP_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  '': [
    'pilotage run examples/hello/workflow.yaml --input name=you',
    'pilotage runs list --state failed',
    'pilotage serve --port 8080',
  ],
  run: [
    'pilotage run workflow.yaml --input repo=https://example.com/app.git',
    'pilotage run workflow.yaml --data \'{"repo": "https://example.com/app.git"}\' --plain',
    'pilotage run deploy --server http://127.0.0.1:8080 --input env=staging   # a workflow stored on a server',
  ],
  validate: ['pilotage validate workflow.yaml components/*/component.yaml'],
  schema: ['pilotage schema workflow > workflow.schema.json'],
  component: ['pilotage component init hello --lang sh', 'pilotage component test hello/component.yaml'],
  'component init': ['pilotage component init git-clone --lang python --dir components/git-clone'],
  'component test': ['pilotage component test component.yaml --data \'{"repo": "https://example.com/app.git"}\''],
  'component build': ['pilotage component build components/hello --register'],
  'component register': ['pilotage component register components   # every components/*/component.yaml'],
  'component list': ['pilotage component list --query git'],
  'component show': ['pilotage component show git-clone@^1 --source'],
  'component deprecate': ["pilotage component deprecate git-clone@1.0.0 -m 'use 1.1.0: fixes shallow clones'"],
  runs: ['pilotage runs list', 'pilotage runs logs RUN_ID --follow'],
  'runs list': [
    'pilotage runs list --workflow build --state failed --limit 20',
    'pilotage runs list --parent RUN_ID   # the child runs its actions called (uses:)',
  ],
  'runs show': ['pilotage runs show RUN_ID --json'],
  'runs logs': ['pilotage runs logs RUN_ID --action test --follow'],
  'runs cancel': ['pilotage runs cancel RUN_ID'],
  'runs retry': [
    'pilotage runs retry RUN_ID --follow   # from the failed action',
    'pilotage runs retry RUN_ID --from start',
  ],
  cache: ['pilotage cache list', 'pilotage cache clear --workflow build'],
  'cache list': ['pilotage cache list --workflow build --json'],
  'cache clear': [
    'pilotage cache clear   # every entry and its files',
    'pilotage cache clear --workflow build --action install --server http://127.0.0.1:8080',
  ],
  events: ['pilotage events list --run RUN_ID', 'pilotage events redeliver --sink http://events.internal/cdevents'],
  'events list': ['pilotage events list --state dead --type pipelinerun'],
  'events redeliver': ['pilotage events redeliver --run RUN_ID'],
  'events deliver': ['pilotage events deliver --events http://127.0.0.1:9000/events --timeout 30s'],
  serve: ['pilotage serve --host 0.0.0.0 --port 8080 --executor docker', 'pilotage serve -c /etc/pilotage/config.yaml'],
  db: [
    'pilotage db status --db postgres://pilotage@db/pilotage',
    'pilotage db migrate --db postgres://pilotage@db/pilotage',
  ],
  'db migrate': ['pilotage db migrate --db postgres://pilotage@db/pilotage', 'pilotage db migrate --json'],
  'db status': ['pilotage db status', 'pilotage db status --db postgres://pilotage@db/pilotage --json'],
  token: ['pilotage token create --name ci --scope run', 'pilotage token list'],
  'token create': ['pilotage token create --name ci --scope run --ttl 90d'],
  'token list': ['pilotage token list --json'],
  'token revoke': ['pilotage token revoke TOKEN_ID'],
  workflow: ['pilotage workflow apply workflow.yaml', 'pilotage workflow list'],
  'workflow apply': ['pilotage workflow apply examples/server/*.yaml'],
  'workflow list': ['pilotage workflow list --json'],
  'workflow show': ['pilotage workflow show build --version 2 --source'],
  'workflow diff': ['pilotage workflow diff build 1 2'],
  'workflow enable': ['pilotage workflow enable build'],
  'workflow disable': ['pilotage workflow disable build'],
  secret: ['pilotage secret set DEPLOY_KEY --workflow deploy   # reads the value from stdin', 'pilotage secret list'],
  'secret set': ['printf %s "$KEY" | pilotage secret set DEPLOY_KEY --workflow deploy'],
  'secret list': ['pilotage secret list --workflow deploy'],
  'secret delete': ['pilotage secret delete DEPLOY_KEY --workflow deploy'],
  approve: [
    "pilotage approve RUN_ID sign-off --comment 'checked the staging deploy'",
    'pilotage approve RUN_ID sign-off --db ~/.local/share/pilotage/pilotage.db   # beside a waiting pilotage run',
  ],
  reject: [
    "pilotage reject RUN_ID sign-off --comment 'the smoke test is red'",
    'pilotage reject RUN_ID sign-off --db /tmp/ci/pilotage.db',
  ],
  completion: [
    'source <(pilotage completion bash)                                 # bash, this shell',
    'pilotage completion zsh > "${fpath[1]}/_pilotage"                   # zsh',
    'pilotage completion fish > ~/.config/fish/completions/pilotage.fish # fish',
  ],
};

/** The path of a command below the program (`runs list`; `''` for the program itself). */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Append the examples of `HELP_EXAMPLES` to the help of `program` and of every command below it.
 * Returns the paths of the commands that have none (hidden ones aside).
 */
export function addHelpExamples(program: Command): string[] {
  const missing: string[] = [];
  const visit = (command: Command): void => {
    const path = commandPath(command);
    const examples = HELP_EXAMPLES[path];
    if (examples === undefined || examples.length === 0) missing.push(path);
    else command.addHelpText('after', `\nExamples:\n${examples.map((line) => `  $ ${line}`).join('\n')}\n`);
    for (const sub of command.commands) if (!(sub as unknown as { _hidden?: boolean })._hidden) visit(sub);
  };
  visit(program);
  return missing;
}
