/** The API calls the benchmarks make, with the first test key; a refusal stops the benchmark. */
import { call } from '../test/helpers/http.js';
import { TEST_KEYS, type Stack } from '../test/helpers/test-server.js';

export const KEY = TEST_KEYS[0];

/** A new session with the server's defaults; its id. */
export async function newSession(stack: Stack): Promise<string> {
  const r = await call(stack.base, 'POST', '/sessions', { key: KEY, body: {} });
  if (r.status !== 201) throw new Error(`create failed: ${JSON.stringify(r.body)}`);
  return r.body.sessionId as string;
}

/** One turn, waited for (`stream: false`). */
export async function sendTurn(stack: Stack, id: string, prompt: string): Promise<void> {
  const r = await call(stack.base, 'POST', `/sessions/${id}/messages`, { key: KEY, body: { prompt } });
  if (r.status !== 200) throw new Error(`turn failed: ${JSON.stringify(r.body)}`);
}
