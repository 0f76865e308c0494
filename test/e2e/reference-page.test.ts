/**
 * `GET /docs` in a real browser: Debian's headless Chromium driven by playwright-core. The page
 * is built from the OpenAPI document with files the server itself serves (any request that
 * leaves the machine fails the test), it lists every operation of the document, and a
 * try-it-out of GET /health, authorised with a key, shows the server's answer for that key.
 * `UPDATE_SCREENSHOT=1` rewrites docs/reference-page.png.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishedOpenApiDocument } from '../../src/http/openapi/published.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';

const CHROMIUM = '/usr/bin/chromium';

describe('the reference page in headless Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  beforeAll(async () => {
    stack = await startStack();
    // The Debian package (scripts/ensure-system-packages.sh test); as root it needs --no-sandbox.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('renders every operation offline, and a try-it-out of GET /health shows the answer', async () => {
    const origin = stack.base.replace('/api/v1', '');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const outside: string[] = [];
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.origin === origin || url.protocol === 'data:' || url.protocol === 'blob:')
        return route.continue();
      outside.push(url.href);
      return route.abort();
    });
    const failures: string[] = [];
    page.on('pageerror', (err) => failures.push(err.message));

    await page.goto(`${origin}/docs`);
    const document = publishedOpenApiDocument() as {
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    const operations = Object.entries(document.paths).flatMap(([p, item]) =>
      Object.entries(item).map(([method, op]) => ({ method, path: p, id: op.operationId })),
    );
    await page.locator('.opblock').first().waitFor({ timeout: 20_000 });
    const shown = await page.locator('.opblock').evaluateAll((blocks) =>
      blocks.map((b) => {
        const method = b.querySelector('.opblock-summary-method')?.textContent?.toLowerCase() ?? '';
        const p = b.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? '';
        return `${method} ${p}`;
      }),
    );
    expect(shown.sort()).toEqual(operations.map((o) => `${o.method} ${o.path}`).sort());

    // Authorize with a key: the try-it-out sends it as x-api-key.
    await page.locator('button.authorize').first().click();
    const dialog = page.locator('.dialog-ux');
    await dialog.locator('input[type=text], input[type=password]').first().fill(TEST_KEYS[0]);
    await dialog.locator('button.authorize').first().click();
    await dialog.locator('button.btn-done, button.close-modal').first().click();

    const health = page.locator('#operations-Health-getHealth');
    await health.locator('.opblock-summary').click();
    const tryItOut = health.locator('button.try-out__btn');
    if ((await tryItOut.count()) > 0 && (await tryItOut.textContent())?.includes('Try it out'))
      await tryItOut.click();
    await health.locator('button.execute').click();
    const live = health.locator('.live-responses-table tr.response');
    await live.locator('.response-col_status').first().waitFor({ timeout: 20_000 });
    expect((await live.locator('.response-col_status').first().textContent())?.trim()).toBe('200');
    const body = (await live.locator('.response-col_description').first().textContent()) ?? '';
    // With the key, /health tells a known caller more than it tells anyone.
    expect(body).toContain('"status"');
    expect(body).toContain('"uptimeSeconds"');

    const shot = process.env.UPDATE_SCREENSHOT
      ? path.resolve('docs/reference-page.png')
      : path.join(os.tmpdir(), `ccr-reference-${process.pid}.png`);
    // The operation and its answer in view.
    await health.locator('.opblock-summary').scrollIntoViewIfNeeded();
    await live
      .locator('.response-col_status')
      .first()
      .evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await page.screenshot({ path: shot, fullPage: false });
    expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
    if (!process.env.UPDATE_SCREENSHOT) fs.rmSync(shot);

    expect(outside).toEqual([]);
    expect(failures).toEqual([]);
  }, 120_000);
});
