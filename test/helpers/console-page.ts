/**
 * The web console's browser tests' shared steps (test/e2e/console*.test.ts): Debian's Chromium
 * through playwright-core, signing in, sessions and prompts the way a person does them, waiting
 * for a turn's end, axe-core, and screenshots under dist/console-screenshots/.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { buildConsole } from './console-build.js';
import { startStack, TEST_KEYS, type Stack } from './test-server.js';

export const KEY = TEST_KEYS[0];
export const SHOTS = path.resolve('dist/console-screenshots');
export const UI_TIMEOUT = 20_000;

function chromiumPath(): string {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'Debian package chromium is missing: `bash scripts/ensure-system-packages.sh test` installs it',
    );
  }
}

export async function launch(): Promise<Browser> {
  // --no-sandbox: Chromium's own sandbox cannot start as root in a container; the page is ours.
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
}

/** A server, the console built, and Chromium: what each block of the console tests starts with. */
export async function startConsoleStack(
  env: Record<string, string> = {},
): Promise<{ stack: Stack; browser: Browser }> {
  const [stack, browser] = await Promise.all([startStack({ env }), launch(), buildConsole()]);
  return { stack, browser };
}

export const origin = (stack: Stack) => stack.base.replace(/\/api\/v1$/, '');

export async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

export async function signIn(page: Page, stack: Stack, key: string = KEY): Promise<void> {
  await page.goto(`${origin(stack)}/console/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function createSession(page: Page, mode: string): Promise<string> {
  const title = page.locator('.chat-title');
  const before = (await title.count()) > 0 ? await title.textContent() : null;
  await page.getByLabel('Permission mode').selectOption(mode);
  await page.getByRole('button', { name: 'Create session' }).click();
  // The new session's chat replaces the one open before.
  await expect
    .poll(async () => ((await title.count()) > 0 ? await title.textContent() : null), { timeout: UI_TIMEOUT })
    .not.toBe(before);
  const id = (await title.textContent())!;
  expect(id).toMatch(/^sess_/);
  return id;
}

export async function send(page: Page, prompt: string): Promise<void> {
  const box = page.getByLabel('Message');
  await box.fill(prompt);
  await box.press('Enter');
}

/** The turn whose prompt is `prompt` (exactly one: a second would be a duplicate). */
export const turn = (page: Page, prompt: string) => page.locator('li.turn').filter({ hasText: prompt });

export async function waitForEnd(page: Page, prompt: string): Promise<void> {
  await turn(page, prompt)
    .locator('.turn-end, .turn-error')
    .waitFor({ timeout: UI_TIMEOUT })
    .catch(async (err: unknown) => {
      await shot(page, `no-end-${prompt.replace(/\W+/g, '-')}`);
      throw err;
    });
}

/** Serious or critical findings of axe-core on the page as it is. */
export async function axeFindings(page: Page): Promise<string[]> {
  const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
  await page.addScriptTag({ path: axePath });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: () => Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run()).violations as Array<{
      id: string;
      impact: string;
      help: string;
      nodes: unknown[];
    }>;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help}, ${v.nodes.length} node(s)`);
}
