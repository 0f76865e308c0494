/**
 * Builds the web console (console/) into dist/console/, which the server serves at /console/.
 * `npm run build` runs it; the browser tests build it first (test/helpers/console-build.ts).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export const CONSOLE_ROOT = fileURLToPath(new URL('.', import.meta.url));
export const CONSOLE_OUT = fileURLToPath(new URL('../dist/console/', import.meta.url));

export default defineConfig({
  root: CONSOLE_ROOT,
  base: '/console/',
  // Preact's JSX runtime (no React): the whole console is about 36 KB of script (13 KB gzipped).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: CONSOLE_OUT, emptyOutDir: true, sourcemap: true },
  logLevel: 'warn',
});
