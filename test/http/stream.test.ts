/**
 * The SSE routes' answers before a stream opens: JSON errors (and 204 when there is nothing to
 * stream). The streams themselves are tested end to end over real HTTP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  KEY_A,
  auth,
  createSession,
  expectError,
  issueFields,
  keyRecord,
  nextTerminalEvent,
  rateLimitHeaders,
  startApp,
  type Harness,
} from './harness.js';

describe('stream routes, before the stream', () => {
  let h: Harness;
  let id: string;
  const url = (): string => `/api/v1/sessions/${id}/stream`;

  async function start(env: Record<string, string> = {}): Promise<void> {
    h = await startApp(env);
    id = await createSession(h);
  }

  afterEach(async () => {
    await h?.close();
  });

  describe('POST /sessions/:id/stream', () => {
    const post = (payload: unknown) =>
      h.app.inject({ method: 'POST', url: url(), headers: auth(), payload: payload as object });

    it.each([
      [{}, ['prompt']],
      [{ prompt: '' }, ['prompt']],
      [{ prompt: 'x', timeout: 'soon' }, ['timeout']],
      [{ prompt: 'x', stream: true }, ['stream']],
    ])('400 INVALID_REQUEST: %j names %j', async (payload, fields) => {
      await start();
      expect(issueFields(expectError(await post(payload), 400, 'INVALID_REQUEST'))).toEqual(fields);
      expect(h.runner.prompts).toEqual([]);
    });

    it('404 SESSION_NOT_FOUND: an unknown session', async () => {
      await start();
      id = 'sess_unknown';
      expectError(await post({ prompt: 'x' }), 404, 'SESSION_NOT_FOUND');
    });

    it('409 SESSION_BUSY: a turn is already running', async () => {
      await start();
      h.runner.script({ end: 'hang' });
      const first = await h.app.inject({
        method: 'POST',
        url: `/api/v1/sessions/${id}/messages`,
        headers: auth(),
        payload: { prompt: 'long', stream: true },
      });
      const body = expectError(await post({ prompt: 'second' }), 409, 'SESSION_BUSY');
      expect(body.error.details).toMatchObject({ runningMessageId: first.json().messageId });
    });

    it('429 RATE_LIMIT_EXCEEDED: it draws on the messages bucket', async () => {
      await start({ RATE_LIMIT_MESSAGES_PER_HOUR: '1' });
      await h.app.inject({
        method: 'POST',
        url: `/api/v1/sessions/${id}/messages`,
        headers: auth(),
        payload: { prompt: 'one' },
      });
      const res = await post({ prompt: 'two' });
      expect(expectError(res, 429, 'RATE_LIMIT_EXCEEDED').error.details).toMatchObject({
        bucket: 'messages',
      });
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
    });
  });

  describe('GET /sessions/:id/stream', () => {
    const get = (query = '', headers: Record<string, string> = {}) =>
      h.app.inject({ method: 'GET', url: `${url()}${query}`, headers: { ...auth(), ...headers } });

    it('404 SESSION_NOT_FOUND: an unknown session', async () => {
      await start();
      id = 'sess_unknown';
      expectError(await get(), 404, 'SESSION_NOT_FOUND');
    });

    it.each(['abc', '-1', '1.5'])('400 INVALID_REQUEST: Last-Event-ID %j', async (value) => {
      await start();
      const res = await get('', { 'last-event-id': value });
      expect(issueFields(expectError(res, 400, 'INVALID_REQUEST'))).toEqual(['Last-Event-ID']);
    });

    it.each(['?after=abc', '?after=-2', '?from=3'])('400 INVALID_REQUEST: %s', async (query) => {
      await start();
      expectError(await get(query), 400, 'INVALID_REQUEST');
    });

    it('404 NOT_FOUND: a messageId that is not a prompt of this session', async () => {
      await start();
      const res = await get('?messageId=msg_unknown');
      expect(expectError(res, 404, 'NOT_FOUND').error.details).toEqual({ messageId: 'msg_unknown' });
      // Another session's message is not this session's.
      const other = await createSession(h);
      const sent = await h.app.inject({
        method: 'POST',
        url: `/api/v1/sessions/${other}/messages`,
        headers: auth(),
        payload: { prompt: 'x' },
      });
      expectError(await get(`?messageId=${sent.json().messageId}`), 404, 'NOT_FOUND');
    });

    it('204: nothing has run yet, or nothing is left after the cursor', async () => {
      await start();
      const none = await get();
      expect(none.statusCode).toBe(204);
      expect(none.body).toBe('');
      await h.app.inject({
        method: 'POST',
        url: `/api/v1/sessions/${id}/messages`,
        headers: auth(),
        payload: { prompt: 'x' },
      });
      const last = await h.deps.events.currentSeq(id);
      expect((await get(`?after=${last}`)).statusCode).toBe(204);
      expect((await get('', { 'last-event-id': String(last) })).statusCode).toBe(204);
    });

    it('204: a turn whose last event the cursor has already passed, even while another runs', async () => {
      await start();
      const first = await h.app.inject({
        method: 'POST',
        url: `/api/v1/sessions/${id}/messages`,
        headers: auth(),
        payload: { prompt: 'x' },
      });
      const messageId = first.json().messageId as string;
      const last = await h.deps.events.currentSeq(id);
      h.runner.script({ end: 'hang' });
      await h.app.inject({
        method: 'POST',
        url: `/api/v1/sessions/${id}/messages`,
        headers: auth(),
        payload: { prompt: 'y', stream: true },
      });
      for (const cursor of [last, last + 1]) {
        const res = await get(`?messageId=${messageId}`, { 'last-event-id': String(cursor) });
        expect(res.statusCode).toBe(204);
      }
      // One event short of the end: that event, then the stream closes.
      const res = await get(`?messageId=${messageId}&after=${last - 1}`);
      expect(res.statusCode).toBe(200);
      expect(res.body.match(/^id: (\d+)$/gm)).toEqual([`id: ${last}`]);
    });

    it('429 RATE_LIMIT_EXCEEDED: the events bucket is empty, before any event is sent', async () => {
      await start({ RATE_LIMIT_EVENTS_PER_HOUR: '5' });
      const sent = await h.app.inject({
        method: 'POST',
        url: `/api/v1/sessions/${id}/messages`,
        headers: auth(),
        payload: { prompt: 'x', stream: true },
      });
      await nextTerminalEvent(h, id);
      await h.deps.rateLimits.consume(await keyRecord(h, KEY_A), 'events', 5);
      const res = await get(`?messageId=${sent.json().messageId}`);
      expect(expectError(res, 429, 'RATE_LIMIT_EXCEEDED').error.details).toMatchObject({
        bucket: 'events',
        limit: 5,
        remaining: 0,
      });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(rateLimitHeaders(res)).toMatchObject({ limit: 5, remaining: 0 });
    });
  });
});
