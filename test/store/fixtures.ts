/**
 * Record builders for the store contract. Every field has a non-default, non-trivial value
 * (nested JSON, arrays, unicode) so a round trip that drops or mangles one shows up; tests
 * override only what they are about.
 */
import type { Stores } from '../../src/domain/stores.js';
import type { ApiKeyRecord, SessionEvent, SessionRecord, TurnRecord } from '../../src/domain/types.js';
import type { TokenUsage, TurnCompletion } from '../../src/domain/events.js';

/** What each implementation's test file gives the contract: a fresh, empty store per test. */
export interface StoreHandle {
  stores: Stores;
  cleanup(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreHandle>;

/** The sub-suites read the current test's store through this (beforeEach replaces it). */
export interface ContractContext {
  stores(): Stores;
}

export const T0 = 1_700_000_000_000;

export function makeKey(overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const id = overrides.id ?? 'key_1';
  return {
    id,
    name: `Key ${id} — ünïcode`,
    prefix: `sk-${id}`.slice(0, 12),
    hash: `hash-of-${id}`,
    role: 'user',
    policy: { rateLimits: { sessions: 5, messages: 100 } },
    createdAt: T0,
    lastUsedAt: null,
    revokedAt: null,
    ...overrides,
  };
}

export function makeSession(keyId: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  const id = overrides.id ?? 'ses_1';
  return {
    id,
    keyId,
    status: 'active',
    config: {
      requestedModel: 'sonnet',
      model: null,
      permissionMode: 'acceptEdits',
      maxTurns: null,
      cwd: `/var/lib/workspaces/${id}`,
      workspace: 'owned',
      systemPrompt: null,
      appendSystemPrompt: 'Be brief.\nReally.',
      allowedTools: ['Read', 'Bash(git:*)'],
      disallowedTools: [],
    },
    metadata: { team: 'infra', nested: { tags: ['a', 'b'], n: 1.5, on: true, none: null } },
    claudeSessionId: `claude-${id}`,
    createdAt: T0,
    lastActivityAt: T0 + 1,
    endedAt: null,
    endReason: null,
    ...overrides,
  };
}

export function usage(n: number): TokenUsage {
  return {
    inputTokens: n,
    outputTokens: 2 * n,
    cacheCreationInputTokens: 3 * n,
    cacheReadInputTokens: 4 * n,
  };
}

export function makeTurn(sessionId: string, overrides: Partial<TurnRecord> = {}): TurnRecord {
  return {
    id: overrides.id ?? 'turn_1',
    sessionId,
    prompt: 'List the files.\n  Then "quote" them.',
    status: 'running',
    createdAt: T0 + 10,
    endedAt: null,
    firstSeq: 1,
    timeoutMs: 60_000,
    lastSeq: null,
    completion: null,
    error: null,
    usage: usage(0),
    costUsd: 0,
    ...overrides,
  };
}

export function makeCompletion(turn: TurnRecord, overrides: Partial<TurnCompletion> = {}): TurnCompletion {
  return {
    messageId: turn.id,
    sessionId: turn.sessionId,
    response: 'Done: a.txt, b.txt',
    usage: usage(10),
    costUsd: 0.25,
    durationMs: 1234,
    numTurns: 2,
    stopReason: null,
    status: 'completed',
    ...overrides,
  };
}

export function makeEvent(
  sessionId: string,
  seq: number,
  overrides: Partial<SessionEvent> = {},
): SessionEvent {
  return {
    sessionId,
    seq,
    turnId: null,
    type: 'message',
    // Deliberately not what JSON.stringify would write: the store must keep the text as given.
    data: `{ "seq" : ${seq},  "text": "caf\\u00e9 ☕" }`,
    createdAt: T0 + 100 + seq,
    ...overrides,
  };
}

/** A key and an active session under it: what most turn and event tests need first. */
export async function seedSession(
  stores: Pick<Stores, 'keys' | 'sessions'>,
  sessionId = 'ses_1',
  keyId = 'key_1',
): Promise<SessionRecord> {
  if ((await stores.keys.getKey(keyId)) === null) await stores.keys.insertKey(makeKey({ id: keyId }));
  const session = makeSession(keyId, { id: sessionId });
  await stores.sessions.insertSession(session);
  return session;
}
