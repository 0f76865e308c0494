/**
 * The offline demo's costs are Claude Code's estimates for a fake model's tokens: with
 * COSTS_SIMULATED (the demo sets it) every response that carries a cost says `costSimulated: true`
 * (the completion, its stored `complete` event, the session's usage, GET /usage). A real server's
 * responses keep the seed's fields as they are, without the marker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { reply } from '../helpers/fake-agent-runner.js';
import { auth, createSession, nextTerminalEvent, startApp, type Harness } from './harness.js';

describe('simulated costs', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  /** One finished turn that cost 0.01 (by Claude Code's figures), then what each response says. */
  async function costsSeen(env: Record<string, string>) {
    h = await startApp(env);
    const id = await createSession(h);
    h.runner.script(reply('hi', { costUsd: 0.01 }));
    const get = async (url: string) => (await h.app.inject({ method: 'GET', url, headers: auth() })).json();
    const completion = (
      await h.app.inject({
        method: 'POST',
        url: `/api/v1/sessions/${id}/messages`,
        headers: auth(),
        payload: { prompt: 'hello' },
      })
    ).json();
    return {
      completion,
      event: (await nextTerminalEvent(h, id)) as Record<string, unknown>,
      session: (await get(`/api/v1/sessions/${id}`)).usage,
      usage: await get('/api/v1/usage'),
    };
  }

  it('COSTS_SIMULATED=true: the completion, its event, the session and /usage say so', async () => {
    const seen = await costsSeen({ COSTS_SIMULATED: 'true' });
    expect(seen.completion).toMatchObject({ costUsd: 0.01, costSimulated: true });
    expect(seen.event).toMatchObject({ costUsd: 0.01, costSimulated: true });
    expect(seen.session).toMatchObject({ costUsd: 0.01, costSimulated: true });
    expect(seen.usage).toMatchObject({ total: { costUsd: 0.01 }, costSimulated: true });
  });

  it('a real server: no marker anywhere', async () => {
    const seen = await costsSeen({});
    expect(seen.completion.costUsd).toBe(0.01);
    for (const body of [seen.completion, seen.event, seen.session, seen.usage])
      expect(body).not.toHaveProperty('costSimulated');
  });
});
