/**
 * The web console's workspace in a real browser (the setup of console.test.ts, shared through
 * test/helpers/console-page.ts): the file tree and viewer, a turn's changes as a diff, rewind and
 * fork; then two walks a person makes: an approval allowed and remembered, and the console by
 * keyboard alone. Screenshots go to dist/console-screenshots/ (files-panel.png is kept under docs/).
 */
import fs from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeFindings,
  createSession,
  KEY,
  startConsoleStack,
  origin,
  send,
  shot,
  signIn,
  turn,
  UI_TIMEOUT,
  waitForEnd,
} from '../helpers/console-page.js';
import { call } from '../helpers/http.js';
import { parseSse } from '../helpers/sse-text.js';
import type { Stack } from '../helpers/test-server.js';
import { history } from './support.js';

const files = (page: Page) => page.getByRole('region', { name: 'Files', exact: true });
const fileButton = (page: Page, name: string) => files(page).getByRole('button', { name, exact: true });
const fileText = (page: Page, path: string) => files(page).getByLabel(`Content of ${path}`);
const changesOf = (page: Page, prompt: string) => turn(page, prompt).locator('details.changes');
const turnIdOf = async (page: Page, prompt: string) => (await turn(page, prompt).getAttribute('data-turn'))!;
const rewoundPrompts = (page: Page) => page.locator('li.turn.rewound .prompt p').allTextContents();

/** Horizontal overflow of the page: more than 0 means something sticks out sideways. */
const overflow = (page: Page) =>
  page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');

/** Whether the element is on screen now (not merely in the page, to be scrolled to). */
const inViewport = (locator: Locator) =>
  locator.evaluate((el: { getBoundingClientRect(): { top: number; bottom: number } }) => {
    const box = el.getBoundingClientRect();
    return box.top >= 0 && box.bottom <= (globalThis as unknown as { innerHeight: number }).innerHeight;
  });

/** The focused element's name as a screen reader would read it (label, aria-label or text). */
const focusedName = (page: Page) =>
  page.evaluate<string>(`(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return '';
    return (el.getAttribute('aria-label') ?? el.labels?.[0]?.textContent ?? el.textContent ?? '').trim();
  })()`);

/** Presses Tab (or Shift+Tab) until the element named `name` has the focus, as a keyboard user does. */
async function tabTo(page: Page, name: string | RegExp, key: 'Tab' | 'Shift+Tab' = 'Tab'): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < 120; i++) {
    await page.keyboard.press(key);
    const focused = await focusedName(page);
    if (typeof name === 'string' ? focused === name : name.test(focused)) return;
    seen.push(focused);
  }
  throw new Error(`${String(name)} was not reached with ${key}; focus went through: ${seen.join(' | ')}`);
}

describe('web console: the workspace', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let sessionId: string;
  const first = 'Write notes [[write:notes/hello.txt:first line\nsecond line]]';

  beforeAll(async () => {
    ({ stack, browser } = await startConsoleStack());
    // bypassCSP: axe-core is injected as an inline script, which the console's policy forbids.
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('shows a file the agent wrote in the tree and the viewer, and the turn’s changes as a diff', async () => {
    await signIn(page, stack);
    sessionId = await createSession(page, 'acceptEdits');
    expect(await files(page).textContent()).not.toContain('hello.txt');
    await send(page, first);
    await waitForEnd(page, first);
    // The tree is read again after the turn's files_changed: the new folder and its file.
    await fileButton(page, 'hello.txt').waitFor({ timeout: UI_TIMEOUT });
    expect(await files(page).locator('summary').allTextContents()).toContain('notes/');
    await fileButton(page, 'hello.txt').click();
    await expect
      .poll(() => fileText(page, 'notes/hello.txt').textContent(), { timeout: UI_TIMEOUT })
      .toBe('first line\nsecond line');

    // The turn's changes: counted from its files_changed, the lines from the diff endpoint.
    const changes = changesOf(page, 'Write notes');
    expect(await changes.locator('summary').textContent()).toBe('Changes: 1 file, +2 −0');
    await changes.locator('summary').click();
    await expect
      .poll(() => changes.locator('.diff .added').allTextContents(), { timeout: UI_TIMEOUT })
      .toEqual(['+first line\n', '+second line\n']);
    expect(await changes.locator('h4').textContent()).toMatch(/^notes\/hello\.txt added/);
    await shot(page, 'files-panel');
    expect(await axeFindings(page)).toEqual([]);
  }, 60_000);

  it('says a binary file is binary and offers it as a download', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0xfe, 0xff]);
    const put = await fetch(`${stack.base}/sessions/${sessionId}/files/content?path=logo.png`, {
      method: 'PUT',
      headers: { 'x-api-key': KEY },
      body: bytes,
    });
    expect(put.status).toBe(201);
    // An upload is no turn and stores no event: Refresh reads the tree again.
    await files(page).getByRole('button', { name: 'Refresh' }).click();
    await fileButton(page, 'logo.png').click();
    const viewer = files(page).getByRole('region', { name: 'logo.png' });
    await expect
      .poll(() => viewer.textContent(), { timeout: UI_TIMEOUT })
      .toContain('Binary file (8 bytes): download it to open it.');
    expect(await viewer.locator('pre').count()).toBe(0);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      viewer.getByRole('button', { name: 'Download' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('logo.png');
    expect(fs.readFileSync(await download.path())).toEqual(bytes);
  });

  it('rewinds to before a turn once asked: its file is gone, it and the later turn are marked rewound', async () => {
    const second = 'Second file [[write:second.txt:two]]';
    const third = 'Third says hello';
    await send(page, second);
    await waitForEnd(page, second);
    await fileButton(page, 'second.txt').waitFor({ timeout: UI_TIMEOUT });
    await send(page, third);
    await waitForEnd(page, third);

    // It asks first, and Cancel changes nothing.
    const rewind = turn(page, second).getByRole('button', { name: 'Rewind…' });
    await rewind.click();
    const dialog = page.getByRole('dialog', { name: 'Rewind to before this turn?' });
    await dialog.waitFor({ timeout: UI_TIMEOUT });
    expect(await dialog.textContent()).toContain('This turn and the turn after it will be marked rewound');
    expect(await axeFindings(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await dialog.count()).toBe(0);
    expect(await rewoundPrompts(page)).toEqual([]);

    await rewind.click();
    await dialog.getByRole('button', { name: 'Rewind', exact: true }).click();
    // The `rewound` event, through the stream: the turns marked, the tree read again.
    await expect.poll(() => rewoundPrompts(page), { timeout: UI_TIMEOUT }).toEqual([second, third]);
    await expect.poll(() => fileButton(page, 'second.txt').count(), { timeout: UI_TIMEOUT }).toBe(0);
    expect(await fileButton(page, 'hello.txt').count()).toBe(1);
    expect(await turn(page, second).getByRole('button', { name: 'Rewind…' }).count()).toBe(0);
    expect(await turn(page, first).getByRole('button', { name: 'Rewind…' }).count()).toBe(1);
    // A rewound turn's changes stay readable.
    expect(await changesOf(page, second).locator('summary').textContent()).toBe('Changes: 1 file, +1 −0');

    // A reload shows the same, and so does the history a client reads.
    await page.reload();
    await expect.poll(() => rewoundPrompts(page), { timeout: UI_TIMEOUT }).toEqual([second, third]);
    await fileButton(page, 'hello.txt').waitFor({ timeout: UI_TIMEOUT });
    expect(await fileButton(page, 'second.txt').count()).toBe(0);
    const messages = await history(stack, KEY, sessionId);
    expect(messages.filter((m) => m.source === 'client').map((m) => m.rewound === true)).toEqual([
      false,
      true,
      true,
    ]);
    await shot(page, 'rewound');
  }, 60_000);

  it('forks from a turn: a new session opens with that turn’s files', async () => {
    const firstId = await turnIdOf(page, 'Write notes');
    await turn(page, 'Write notes').getByRole('button', { name: 'Fork' }).click();
    await expect
      .poll(() => page.locator('.chat-title').textContent(), { timeout: UI_TIMEOUT })
      .not.toBe(sessionId);
    const forkId = (await page.locator('.chat-title').textContent())!;
    expect(forkId).toMatch(/^sess_/);
    await fileButton(page, 'hello.txt').waitFor({ timeout: UI_TIMEOUT });
    // The workspace as it was after that turn: the later upload is not in it.
    expect(await fileButton(page, 'logo.png').count()).toBe(0);
    await expect
      .poll(() => page.locator('nav li').filter({ hasText: forkId }).count(), { timeout: UI_TIMEOUT })
      .toBe(1);
    const res = await call(stack.base, 'GET', `/sessions/${forkId}`, { key: KEY });
    expect(res.body.forkedFrom).toEqual({
      sessionId,
      messageId: firstId,
    });
  });

  it('keeps the files panel usable at a phone width', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await signIn(phone, stack);
    await phone.getByRole('button', { name: new RegExp(`^${sessionId}`) }).click();
    // Below the conversation at this width: a link at the top of the session leads there.
    await phone.getByRole('link', { name: 'Files' }).click();
    await expect.poll(() => files(phone).getByRole('heading', { name: 'Files' }).isVisible()).toBe(true);
    expect(await inViewport(files(phone).getByRole('heading', { name: 'Files' }))).toBe(true);
    await fileButton(phone, 'hello.txt').click();
    await expect
      .poll(() => fileText(phone, 'notes/hello.txt').textContent(), { timeout: UI_TIMEOUT })
      .toBe('first line\nsecond line');
    const changes = changesOf(phone, 'Write notes');
    await changes.locator('summary').click();
    await changes.locator('.diff .added').first().waitFor({ timeout: UI_TIMEOUT });
    // Nothing sticks out sideways: not the page, not the session's scrolling area, not the panel.
    expect(await overflow(phone)).toBeLessThanOrEqual(0);
    for (const box of [phone.locator('main.chat-area'), files(phone)]) {
      const sticksOut = await box.evaluate(
        (el: { scrollWidth: number; clientWidth: number }) => el.scrollWidth - el.clientWidth,
      );
      expect(sticksOut).toBeLessThanOrEqual(0);
    }
    await shot(phone, 'files-phone');
    await phone.close();
  });

  it('allow and remember: the same tool call later in the session does not ask again', async () => {
    const id = await createSession(page, 'default');
    const command = '[[bash:python3 -c "print(12345)"]]';
    const asked = `Run it ${command}`;
    await send(page, asked);
    const approval = page.getByRole('group', { name: /Claude Code asks to use Bash/ });
    await approval.waitFor({ timeout: UI_TIMEOUT });
    await approval.getByRole('button', { name: 'Allow and remember' }).click();
    await waitForEnd(page, asked);
    expect(await turn(page, asked).locator('.note').allTextContents()).toEqual(['Bash: allowed (by client)']);

    const again = `Run it again ${command}`;
    await send(page, again);
    await waitForEnd(page, again);
    // Had it asked, nobody would have answered and the turn would still wait (or end denied).
    expect(await turn(page, again).locator('.note').count()).toBe(0);
    const card = turn(page, again).locator('details.tool');
    expect(await card.locator('.badge').textContent()).toBe('done');
    await card.locator('summary').click();
    expect(await card.textContent()).toContain('12345');
    // The turn's own events agree: no question was asked.
    const stream = await fetch(
      `${stack.base}/sessions/${id}/stream?messageId=${await turnIdOf(page, again)}`,
      { headers: { 'x-api-key': KEY } },
    );
    const events = parseSse(await stream.text()).map((e) => e.event);
    expect(events).toContain('complete');
    expect(events).not.toContain('permission_request');
  }, 60_000);

  it('walks through with the keyboard alone: sign in, a session, a prompt, an approval, the files', async () => {
    const kb = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await kb.goto(`${origin(stack)}/console/`);
    await tabTo(kb, 'API key');
    await kb.keyboard.type(KEY);
    await kb.keyboard.press('Enter');
    await kb.getByRole('button', { name: 'Create session' }).waitFor({ timeout: UI_TIMEOUT });

    // The permission mode: the select takes arrow keys; "default" asks before a file is written.
    await tabTo(kb, 'Permission mode');
    expect(await kb.getByLabel('Permission mode').inputValue()).toBe('default');
    await tabTo(kb, 'Create session');
    await kb.keyboard.press('Enter');
    await kb.locator('.chat-title').waitFor({ timeout: UI_TIMEOUT });

    const prompt = 'By keyboard [[write:kb.txt:typed by keys]]';
    await tabTo(kb, 'Message');
    await kb.keyboard.type(prompt);
    await kb.keyboard.press('Enter');
    const approval = kb.getByRole('group', { name: /Claude Code asks to use Write/ });
    await approval.waitFor({ timeout: UI_TIMEOUT });
    // The question sits just before the prompt box: back from there to its Allow button.
    await tabTo(kb, 'Allow', 'Shift+Tab');
    await kb.keyboard.press('Space');
    await waitForEnd(kb, prompt);
    expect(await turn(kb, prompt).locator('.note').allTextContents()).toContain('Write: allowed (by client)');

    // The file in the tree, opened with Enter.
    await fileButton(kb, 'kb.txt').waitFor({ timeout: UI_TIMEOUT });
    await tabTo(kb, 'kb.txt');
    await kb.keyboard.press('Enter');
    await expect
      .poll(() => fileText(kb, 'kb.txt').textContent(), { timeout: UI_TIMEOUT })
      .toBe('typed by keys');
    // The turn's changes, unfolded with Enter.
    await tabTo(kb, /^Changes: 1 file/, 'Shift+Tab');
    await kb.keyboard.press('Enter');
    await expect
      .poll(() => changesOf(kb, prompt).locator('.diff .added').allTextContents(), { timeout: UI_TIMEOUT })
      .toEqual(['+typed by keys\n']);
    // Rewind asks in a dialog that Esc closes, giving the focus back.
    await tabTo(kb, 'Rewind…');
    await kb.keyboard.press('Enter');
    const dialog = kb.getByRole('dialog', { name: 'Rewind to before this turn?' });
    await dialog.waitFor({ timeout: UI_TIMEOUT });
    await kb.keyboard.press('Escape');
    await expect.poll(() => dialog.count(), { timeout: UI_TIMEOUT }).toBe(0);
    expect(await focusedName(kb)).toBe('Rewind…');
    expect(await kb.locator('li.turn.rewound').count()).toBe(0);
    await shot(kb, 'keyboard');
    await kb.close();
  }, 60_000);
});
