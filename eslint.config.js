import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '.scratch/**',
      'dist/**',
      'node_modules/**',
      'data/**',
      'coverage/**',
      'examples/seed/**/*.js',
      'examples/seed/**/*.cjs',
      'examples/*/**/*.cjs',
    ],
  },
  js.configs.recommended,
  {
    // The examples are plain programs for Node (no build step): its globals.
    files: ['examples/**/*.mjs'],
    languageOptions: {
      globals: Object.fromEntries(
        ['console', 'process', 'fetch', 'TextDecoder', 'AbortController'].map((g) => [g, 'readonly']),
      ),
    },
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The domain is plain TypeScript: HTTP, storage, the Claude Agent SDK and the file system are
    // the adapters' (docs/architecture.md). Its tests may use them to set things up.
    files: ['src/domain/**/*.ts'],
    ignores: ['src/domain/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'node:fs', message: 'The domain does not touch the file system: use a port.' },
            { name: 'node:fs/promises', message: 'The domain does not touch the file system: use a port.' },
            { name: 'fs', message: 'The domain does not touch the file system: use a port.' },
            { name: 'better-sqlite3', message: 'Storage is an adapter: use the store ports (stores.ts).' },
          ],
          patterns: [
            { group: ['fastify', 'fastify/*', '@fastify/*'], message: 'HTTP is the http layer’s.' },
            {
              group: ['@anthropic-ai/*'],
              message: 'The Claude Agent SDK is an adapter: use the AgentRunner port.',
            },
            { group: ['pg', 'ioredis', 'redis'], message: 'Storage is an adapter: use a port.' },
            { group: ['**/adapters/**', '**/http/**'], message: 'The domain depends on no outer layer.' },
          ],
        },
      ],
    },
  },
);
