/**
 * The web console in a real browser (Debian's Chromium through playwright-core, headless) against
 * the real server, the real Claude Code and the fake model API. Each state the README talks about
 * is also written as a screenshot to dist/console-screenshots/ (a few are kept under docs/).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeFindings,
  createSession,
  KEY,
  startConsoleStack,
  origin,
  send,
  shot,
  SHOTS,
  signIn,
  turn,
  UI_TIMEOUT,
  waitForEnd,
} from '../helpers/console-page.js';
import type { Stack } from '../helpers/test-server.js';

// The tests of this block are one person's visit, in order, on one page: each goes on from the
// state the one before left (signed in, a session open, its turns on screen).
describe('web console', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    // Long enough for a second tab to see a question before the server decides it.
    ({ stack, browser } = await startConsoleStack({ PERMISSION_TIMEOUT_MS: '6000' }));
    // bypassCSP: axe-core is injected as an inline script, which the console's policy forbids.
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('loads without a key at / and /console, and says when a key is wrong', async () => {
    await page.goto(`${origin(stack)}/`);
    expect(new URL(page.url()).pathname).toBe('/console/');
    expect(await axeFindings(page)).toEqual([]);
    await signIn(page, stack, 'not-a-key');
    await expect
      .poll(() => page.getByRole('alert').textContent(), { timeout: UI_TIMEOUT })
      .toContain('That API key was not accepted');
    await shot(page, 'wrong-key');
    expect(await page.evaluate('sessionStorage.getItem("ccr.apiKey")')).toBeNull();
  });

  it('signs in, keeps the key out of the URL, and streams a turn as it is written', async () => {
    await signIn(page, stack);
    await createSession(page, 'acceptEdits');
    expect(page.url()).not.toContain(KEY);
    expect(await page.evaluate('sessionStorage.getItem("ccr.apiKey")')).toBe(KEY);

    const prompt = 'Count slowly [[slow:20:200]]';
    await send(page, prompt);
    // Part of the text is on screen while the turn still runs: it streams, it is not shown at the end.
    const streaming = turn(page, prompt).locator('.text.streaming');
    await expect.poll(() => streaming.textContent(), { timeout: UI_TIMEOUT }).toContain('[2/20]');
    expect(await turn(page, prompt).locator('.turn-end').count()).toBe(0);
    expect(await streaming.textContent()).not.toContain('[20/20]');
    await shot(page, 'streaming');
    await waitForEnd(page, prompt);
    await expect.poll(() => turn(page, prompt).locator('.text').last().textContent()).toContain('[20/20]');
    // The turn's end: its cost and tokens.
    expect(await turn(page, prompt).locator('.turn-end').textContent()).toMatch(
      /completed · \$\d+\.\d{4} · \d+ tokens in, \d+ out/,
    );
  });

  it('shows a tool call as a card with its input and result', async () => {
    const prompt = 'Write it [[write:f.txt:hello from the console]]';
    await send(page, prompt);
    await waitForEnd(page, prompt);
    const card = turn(page, prompt).locator('details.tool');
    await expect.poll(() => card.locator('summary').textContent()).toContain('Write');
    await card.locator('summary').click();
    await expect.poll(() => card.textContent()).toContain('hello from the console');
    // The file edit as a diff: the written line, added.
    expect(await card.locator('.diff .added').allTextContents()).toEqual(['+ hello from the console\n']);
    expect(await card.textContent()).toContain('Result');
    await shot(page, 'tool-card');
    expect(await axeFindings(page)).toEqual([]);
  });

  it('answers approvals: one allowed, one denied', async () => {
    await createSession(page, 'default');
    const allowed = 'Please [[write:yes.txt:allowed]]';
    await send(page, allowed);
    const approval = page.getByRole('group', { name: /Claude Code asks to use Write/ });
    await approval.waitFor({ timeout: UI_TIMEOUT }).catch(async (err: unknown) => {
      await shot(page, 'approval-failed');
      throw err;
    });
    expect(await turn(page, allowed).locator('.badge').first().textContent()).toContain(
      'waiting for approval',
    );
    await shot(page, 'approval');
    expect(await axeFindings(page)).toEqual([]);
    await approval.getByRole('button', { name: 'Allow', exact: true }).click();
    await waitForEnd(page, allowed);
    expect(await turn(page, allowed).locator('.note').allTextContents()).toContain(
      'Write: allowed (by client)',
    );
    expect(await turn(page, allowed).locator('details.tool .badge').textContent()).toBe('done');

    const denied = 'Please [[write:no.txt:denied]]';
    await send(page, denied);
    await approval.waitFor({ timeout: UI_TIMEOUT });
    await approval.getByRole('button', { name: 'Deny' }).click();
    await waitForEnd(page, denied);
    expect(await turn(page, denied).locator('.note').allTextContents()).toContain(
      'Write: denied (by client)',
    );
    expect(await turn(page, denied).locator('details.tool .badge').textContent()).toBe('error');
    expect(await approval.count()).toBe(0);
  });

  it('shows an approval in every open tab, and what the timeout decided', async () => {
    // A second tab on the same session: signed in on its own (session storage is per tab).
    const other = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const sessionId = await page.locator('.chat-title').textContent();
    await signIn(other, stack);
    await other.getByRole('button', { name: new RegExp(`^${sessionId}`) }).click();
    const prompt = 'Wait for it [[write:late.txt:1]]';
    await send(page, prompt);
    const approval = (p: Page) => p.getByRole('group', { name: /Claude Code asks to use Write/ });
    await approval(other).waitFor({ timeout: UI_TIMEOUT });
    await approval(page).waitFor({ timeout: UI_TIMEOUT });
    // Nobody answers: the server's default decision (deny, after PERMISSION_TIMEOUT_MS) shows in both.
    await waitForEnd(page, prompt);
    for (const p of [page, other]) {
      await expect
        .poll(() => turn(p, prompt).locator('.note').allTextContents(), { timeout: UI_TIMEOUT })
        .toContain('Write: denied (by timeout)');
      expect(await approval(p).count()).toBe(0);
    }
    await other.close();
  });

  it('folds thinking away and shows a turn sent while another runs as queued', async () => {
    const first = 'Think first [[think:a private thought]] [[slow:20:200]]';
    const second = 'Then this';
    await send(page, first);
    await expect
      .poll(() => turn(page, first).locator('.text.streaming').count(), { timeout: UI_TIMEOUT })
      .toBe(1);
    await send(page, second);
    await expect
      .poll(() => turn(page, second).locator('.badge').first().textContent(), { timeout: UI_TIMEOUT })
      .toBe('queued (position 1)');
    await waitForEnd(page, first);
    await waitForEnd(page, second);
    const thinking = turn(page, first).locator('details.thinking');
    expect(await thinking.getAttribute('open')).toBeNull();
    expect(await thinking.locator('p').isVisible()).toBe(false);
    await thinking.locator('summary').click();
    expect(await thinking.locator('p').textContent()).toBe('a private thought');
    await thinking.locator('summary').click(); // folded again, as a reload shows it
  });

  it('interrupts a running turn with the stop button and with Esc', async () => {
    for (const how of ['button', 'Escape'] as const) {
      const prompt = `Go on and on (${how}) [[slow:200:100]]`;
      await send(page, prompt);
      await expect
        .poll(() => turn(page, prompt).locator('.text.streaming').count(), { timeout: UI_TIMEOUT })
        .toBe(1);
      if (how === 'button') await page.getByRole('button', { name: 'Stop' }).click();
      else await page.keyboard.press('Escape');
      await waitForEnd(page, prompt);
      expect(await turn(page, prompt).locator('.turn-end').textContent()).toMatch(/^interrupted/);
    }
  });

  it('resumes a turn after a reload mid-turn, without a gap or a duplicate', async () => {
    // Every turn so far was drawn live (approvals, interrupts): what a reload must show again.
    const live = await page.locator('ol.turns').innerText();
    expect(live).toContain('Write: denied (by client)');
    const prompt = 'Keep counting [[slow:40:200]]';
    await send(page, prompt);
    await expect
      .poll(() => turn(page, prompt).locator('.text.streaming').textContent(), { timeout: UI_TIMEOUT })
      .toContain('[3/40]');
    await page.reload();
    // Signed in still (session storage), the same session, the running turn on screen again and
    // still streaming: later text arrives as it is written.
    await expect
      .poll(() => turn(page, prompt).locator('.text.streaming').textContent(), { timeout: UI_TIMEOUT })
      .toMatch(/\[[1-3][0-9]\/40\]/);
    await waitForEnd(page, prompt);
    expect(await turn(page, prompt).count()).toBe(1);
    const texts = await turn(page, prompt).locator('.text').allTextContents();
    expect(texts.filter((t) => t.includes('[40/40]'))).toHaveLength(1);
    // No gap: every chunk, in order.
    const whole = Array.from({ length: 40 }, (_, i) => `[${i + 1}/40]`).join(' ');
    expect(texts.join('')).toContain(whole);
    expect(await turn(page, prompt).locator('.turn-end').count()).toBe(1);
    // Every earlier turn once, in order, as before the reload.
    const prompts = await page.locator('li.turn .prompt p').allTextContents();
    expect(new Set(prompts).size).toBe(prompts.length);
    await shot(page, 'after-reload');

    // What a reload shows equals what live streaming showed, for every turn of the session.
    const reloaded = (await page.locator('ol.turns').innerText()).slice(0, live.length);
    if (reloaded !== live) {
      fs.writeFileSync(path.join(SHOTS, 'transcript-live.txt'), live);
      fs.writeFileSync(path.join(SHOTS, 'transcript-reloaded.txt'), reloaded);
    }
    expect(reloaded).toBe(live);
  });

  it('resumes after the connection drops mid-turn, without a gap or a duplicate', async () => {
    const prompt = 'Through a drop [[slow:40:150]]';
    await send(page, prompt);
    await expect
      .poll(() => turn(page, prompt).locator('.text.streaming').textContent(), { timeout: UI_TIMEOUT })
      .toContain('[3/40]');
    await page.context().setOffline(true);
    await expect
      .poll(() => page.getByRole('status').textContent(), { timeout: UI_TIMEOUT })
      .toContain('could not be reached');
    await page.context().setOffline(false);
    await waitForEnd(page, prompt);
    await expect
      .poll(() => page.getByRole('status').textContent(), { timeout: UI_TIMEOUT })
      .not.toContain('could not be reached');
    expect(await turn(page, prompt).count()).toBe(1);
    const texts = await turn(page, prompt).locator('.text').allTextContents();
    const whole = Array.from({ length: 40 }, (_, i) => `[${i + 1}/40]`).join(' ');
    expect(texts.filter((t) => t.includes(whole))).toHaveLength(1);
    expect(await turn(page, prompt).locator('.turn-end').textContent()).toMatch(/^completed/);
  });

  it('says so plainly when the model API is unavailable', async () => {
    const prompt = 'Fail [[error:529]]';
    await send(page, prompt);
    await waitForEnd(page, prompt);
    expect(await turn(page, prompt).locator('.turn-end').count()).toBe(0);
    expect(await turn(page, prompt).locator('.turn-error').textContent()).toMatch(
      /overloaded.*\(UPSTREAM_UNAVAILABLE\)/i,
    );
    expect(await turn(page, prompt).locator('.badge').first().textContent()).toBe('failed');
  });

  it('lists sessions with status, model, mode and cost, and ends one', async () => {
    const sessionId = (await page.locator('.chat-title').textContent())!;
    const entry = page.locator('nav li').filter({ hasText: sessionId });
    await expect.poll(() => entry.textContent(), { timeout: UI_TIMEOUT }).toMatch(/idle\s*default · default/);
    expect(await entry.textContent()).toMatch(/\$\d+\.\d{4}/);
    await page.getByRole('button', { name: `End session ${sessionId}` }).click();
    await expect.poll(() => entry.count(), { timeout: UI_TIMEOUT }).toBe(0);
    expect(await page.locator('.chat-title').count()).toBe(0);
    const res = await fetch(`${stack.base}/sessions/${sessionId}`, { headers: { 'x-api-key': KEY } });
    expect(res.status).toBe(404);
  });

  it('is usable at a phone width', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await phone.goto(`${origin(stack)}/console/`);
    await phone.getByLabel('API key').fill(KEY);
    await phone.getByLabel('API key').press('Enter');
    await phone.getByRole('button', { name: 'Create session' }).waitFor({ timeout: UI_TIMEOUT });
    const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(phone, 'phone');
    await phone.close();
  });
});

describe('web console at a rate limit', () => {
  let stack: Stack;
  let browser: Browser;

  beforeAll(async () => {
    ({ stack, browser } = await startConsoleStack({ RATE_LIMIT_MESSAGES_PER_HOUR: '1' }));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('says the limit was reached and when to retry', async () => {
    const page = await browser.newPage();
    await signIn(page, stack);
    await createSession(page, 'acceptEdits');
    await send(page, 'first');
    await waitForEnd(page, 'first');
    await send(page, 'second');
    const alert = page.getByRole('alert');
    await expect
      .poll(() => alert.textContent(), { timeout: UI_TIMEOUT })
      .toMatch(/Rate limit reached: .*Retry in \d+ s\. You can try again at \d/);
    expect(await turn(page, 'second').count()).toBe(0);
    await shot(page, 'rate-limited');
  });
});

describe('web console at a spending budget', () => {
  let stack: Stack;
  let browser: Browser;

  beforeAll(async () => {
    // Each fake turn costs about $0.06 at Claude Code's prices: one turn spends the day's budget.
    ({ stack, browser } = await startConsoleStack({ KEY_DAILY_BUDGET_USD: '0.01' }));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('says the budget is reached', async () => {
    const page = await browser.newPage();
    await signIn(page, stack);
    await createSession(page, 'acceptEdits');
    await send(page, 'spend');
    await waitForEnd(page, 'spend');
    await send(page, 'more');
    await expect
      .poll(() => page.getByRole('alert').textContent(), { timeout: UI_TIMEOUT })
      .toMatch(/^Budget reached: .*budget/i);
    expect(await turn(page, 'more').count()).toBe(0);
    await shot(page, 'budget-reached');
  });
});
