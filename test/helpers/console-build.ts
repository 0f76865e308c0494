/**
 * Builds the web console (`console/` → dist/console/) once per test run, as `npm run build` does,
 * so the browser tests serve the page of the code under test, never a stale build (about 2 s).
 */
import { build } from 'vite';

let built: Promise<void> | null = null;

export function buildConsole(): Promise<void> {
  built ??= build({ configFile: new URL('../../console/vite.config.ts', import.meta.url).pathname }).then(
    () => undefined,
  );
  return built;
}
