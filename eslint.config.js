// Lint: type-aware rules where they catch real bugs (floating promises) and the core
// (domain/, plan/, engine/) kept free of adapters and of I/O (node:fs, node:child_process,
// node:net, node:http… and fetch). Import cycles: scripts/check-cycles.mjs.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const adapters = [
  '**/api/**',
  '**/cli/**',
  '**/store/kysely/**',
  '**/store/sqlite/**',
  '**/store/postgres/**',
  '**/store/open-store*',
  '**/executor/local/**',
  '**/executor/docker/**',
  '**/executor/kubernetes/**',
  '**/cache/**',
  '**/main.js',
  '**/tracing/**',
  '@opentelemetry/*',
  'fastify',
  'kysely',
  'better-sqlite3',
  'pg',
  'dockerode',
];

// Node's I/O modules, which the core may not import (with and without the `node:` prefix).
const ioModules = ['fs', 'fs/promises', 'child_process', 'net', 'http', 'https', 'http2', 'tls', 'dgram'].flatMap(
  (name) => [name, `node:${name}`],
);

export default tseslint.config(
  {
    ignores: [
      '**/*.generated.ts',
      '**/dist/**',
      '**/node_modules/**',
      'packages/web/e2e-artifacts/**',
      'packages/web/vite.config.ts',
      '**/.scratch*/**',
      'components/**',
      'examples/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // node:test's describe/test return promises the runner itself awaits; tests read JSON answers
    // of the API whose shape the assertions themselves check, so `any` is allowed there
    files: ['**/*.test.ts', '**/test/**/*.ts', 'packages/web/e2e/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: [
      'packages/engine/src/domain/**/*.ts',
      'packages/engine/src/plan/**/*.ts',
      'packages/engine/src/engine/**/*.ts',
    ],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ioModules.map((name) => ({
            name,
            message: 'the core (domain, plan, engine) does no I/O: take a port (engine/ports.ts) wired in main.ts',
          })),
          patterns: [
            {
              group: adapters,
              message: 'the core (domain, plan, engine) must not import adapters: take a port instead',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource'].map((name) => ({
          name,
          message: 'the core (domain, plan, engine) does no I/O: take a port (engine/ports.ts) wired in main.ts',
        })),
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
      },
    },
  },
);
