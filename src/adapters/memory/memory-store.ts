/**
 * The store ports in plain Maps, for unit tests of the domain. It keeps the same contract as the
 * SQLite store (test/store/session-store-contract.ts runs against both), including what a
 * database would refuse: duplicate ids, a key hash used twice, a duplicate event seq, references
 * to a missing key or session. A test that passes here must not fail on the real store.
 *
 * Every record is structuredClone'd on the way in and on the way out, so neither the caller's
 * object nor a returned one is the stored state: mutating them changes nothing here, as with SQL.
 */
import {
  EventSeqTaken,
  type EventStore,
  type IdempotencyStore,
  type KeyPatch,
  type KeyStore,
  type SessionPatch,
  type SessionStore,
  type Stores,
  type TranscriptEntry,
  type TurnFinish,
  type TurnStore,
  type UsageStore,
} from '../../domain/stores.js';
import { MemoryManagedStore } from './memory-managed-store.js';
import { MemoryTranscriptStore } from './memory-transcript-store.js';
import {
  addUsage,
  ZERO_USAGE,
  type ApiKeyRecord,
  type IdempotencyRecord,
  type Page,
  type SessionEvent,
  type SessionRecord,
  type SessionUsage,
  type TurnRecord,
} from '../../domain/types.js';
import { RETAINED_EVENT_TYPES, type TokenUsage } from '../../domain/events.js';

interface State {
  keys: Map<string, ApiKeyRecord>;
  keyIdByHash: Map<string, string>;
  sessions: Map<string, SessionRecord>;
  turns: Map<string, TurnRecord>;
  /** Per session, ascending by seq. */
  events: Map<string, SessionEvent[]>;
  /** By `${keyId}\u0000${key}`. */
  idempotency: Map<string, IdempotencyRecord>;
  /** Event log floors, by session id. */
  floors: Map<string, number>;
}

/** Claude Code's transcripts, by `${projectKey}\u0000${sessionId}\u0000${subpath}`. */
export type TranscriptMap = Map<string, TranscriptEntry[]>;

const copy = structuredClone;

/**
 * Patch semantics shared with the SQL store: only the listed fields (what its UPDATE writes, so a
 * stray property cannot slip in), and a field given as `undefined` is a field not given.
 */
function applyPatch<T extends object, F extends keyof T>(
  target: T,
  patch: Partial<Pick<T, F>>,
  fields: F[],
): void {
  for (const field of fields) {
    const value = patch[field];
    if (value !== undefined) target[field] = copy(value) as T[F];
  }
}

const KEY_PATCH_FIELDS: (keyof KeyPatch)[] = ['name', 'lastUsedAt', 'revokedAt', 'policy'];
const SESSION_PATCH_FIELDS: (keyof SessionPatch)[] = [
  'status',
  'lastActivityAt',
  'endedAt',
  'endReason',
  'claudeSessionId',
];
const TURN_FINISH_FIELDS: (keyof TurnFinish)[] = [
  'status',
  'endedAt',
  'completion',
  'error',
  'usage',
  'costUsd',
];

function byCreatedThenId(a: { createdAt: number; id: string }, b: { createdAt: number; id: string }): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class MemoryStore
  implements KeyStore, SessionStore, TurnStore, EventStore, IdempotencyStore, UsageStore
{
  /** Shared with the bundle's MemoryTranscriptStore, so retention purges transcripts too. */
  readonly transcriptEntries: TranscriptMap = new Map();

  private state: State | null = {
    keys: new Map(),
    keyIdByHash: new Map(),
    sessions: new Map(),
    turns: new Map(),
    events: new Map(),
    idempotency: new Map(),
    floors: new Map(),
  };

  /** The maps, or a throw once closed (as a closed database connection does). */
  private get s(): State {
    if (this.state === null) throw new Error('MemoryStore is closed');
    return this.state;
  }

  async ping(): Promise<void> {
    void this.s;
  }

  async close(): Promise<void> {
    this.state = null;
  }

  async insertKey(key: ApiKeyRecord): Promise<void> {
    const s = this.s;
    if (s.keys.has(key.id)) throw new Error(`insertKey: duplicate id ${key.id}`);
    if (s.keyIdByHash.has(key.hash)) throw new Error('insertKey: duplicate hash');
    s.keys.set(key.id, copy(key));
    s.keyIdByHash.set(key.hash, key.id);
  }

  async findKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    const id = this.s.keyIdByHash.get(hash);
    return id === undefined ? null : this.getKey(id);
  }

  async getKey(id: string): Promise<ApiKeyRecord | null> {
    const key = this.s.keys.get(id);
    return key ? copy(key) : null;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return [...this.s.keys.values()].sort(byCreatedThenId).map((key) => copy(key));
  }

  async countKeys(): Promise<number> {
    return this.s.keys.size;
  }

  async updateKey(id: string, patch: KeyPatch): Promise<void> {
    const key = this.s.keys.get(id);
    if (key) applyPatch(key, patch, KEY_PATCH_FIELDS);
  }

  async insertSession(session: SessionRecord, idempotency?: IdempotencyRecord): Promise<void> {
    const s = this.s;
    if (s.sessions.has(session.id)) throw new Error(`insertSession: duplicate id ${session.id}`);
    if (!s.keys.has(session.keyId)) throw new Error(`insertSession: no key ${session.keyId}`);
    if (idempotency) this.checkIdempotency(idempotency);
    s.sessions.set(session.id, copy(session));
    if (idempotency) this.putIdempotency(idempotency);
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    const session = this.s.sessions.get(id);
    return session ? copy(session) : null;
  }

  async listSessions(keyId: string, page: { limit: number; offset: number }): Promise<Page<SessionRecord>> {
    const mine = this.active()
      .filter((session) => session.keyId === keyId)
      // Newest first; ties by id ascending, as the SQL ORDER BY created_at DESC, id.
      .sort((a, b) => b.createdAt - a.createdAt || byCreatedThenId(a, b));
    return {
      items: mine.slice(page.offset, page.offset + page.limit).map((x) => copy(x)),
      total: mine.length,
    };
  }

  async listActiveSessions(): Promise<SessionRecord[]> {
    return this.active()
      .sort(byCreatedThenId)
      .map((session) => copy(session));
  }

  async updateSession(id: string, patch: SessionPatch): Promise<void> {
    const session = this.s.sessions.get(id);
    if (session) applyPatch(session, patch, SESSION_PATCH_FIELDS);
  }

  async beginTurn(
    turn: TurnRecord,
    promptEvent: SessionEvent,
    idempotency?: IdempotencyRecord,
  ): Promise<void> {
    const s = this.s;
    // Every check before any write: the pair is stored whole or not at all.
    if (s.turns.has(turn.id)) throw new Error(`beginTurn: duplicate turn id ${turn.id}`);
    if (!s.sessions.has(turn.sessionId)) throw new Error(`beginTurn: no session ${turn.sessionId}`);
    this.checkEvents([promptEvent]);
    if (idempotency) this.checkIdempotency(idempotency);
    s.turns.set(turn.id, copy(turn));
    this.insertEvents([promptEvent]);
    if (idempotency) this.putIdempotency(idempotency);
  }

  async pruneEvents(sessionId: string, createdBefore: number): Promise<number> {
    const events = this.s.events.get(sessionId) ?? [];
    const pruned = events.filter((e) => !RETAINED_EVENT_TYPES.has(e.type) && e.createdAt < createdBefore);
    if (pruned.length > 0) {
      this.s.events.set(
        sessionId,
        events.filter((e) => !pruned.includes(e)),
      );
      const newest = Math.max(...pruned.map((e) => e.seq));
      this.s.floors.set(sessionId, Math.max(this.s.floors.get(sessionId) ?? 0, newest));
    }
    return this.s.floors.get(sessionId) ?? 0;
  }

  async logFloor(sessionId: string): Promise<number> {
    return this.s.floors.get(sessionId) ?? 0;
  }

  async purgeEndedSessions(endedBefore: number): Promise<number> {
    let purged = 0;
    for (const session of this.s.sessions.values()) {
      if (session.status !== 'ended' || session.endedAt === null || session.endedAt >= endedBefore) continue;
      for (const key of [...this.transcriptEntries.keys()]) {
        if (key.split('\u0000')[1] === session.claudeSessionId) this.transcriptEntries.delete(key);
      }
      if ((this.s.events.get(session.id) ?? []).length === 0) continue;
      this.s.events.delete(session.id);
      purged++;
    }
    return purged;
  }

  async findIdempotency(keyId: string, key: string): Promise<IdempotencyRecord | null> {
    const record = this.s.idempotency.get(`${keyId}\u0000${key}`);
    return record ? copy(record) : null;
  }

  async purgeIdempotency(createdBefore: number): Promise<number> {
    let removed = 0;
    for (const [id, record] of this.s.idempotency) {
      if (record.createdAt < createdBefore) {
        this.s.idempotency.delete(id);
        removed++;
      }
    }
    return removed;
  }

  private checkIdempotency(record: IdempotencyRecord): void {
    if (this.s.idempotency.has(`${record.keyId}\u0000${record.key}`)) {
      throw new Error(`idempotency key ${record.key} already used by key ${record.keyId}`);
    }
  }

  private putIdempotency(record: IdempotencyRecord): void {
    this.s.idempotency.set(`${record.keyId}\u0000${record.key}`, copy(record));
  }

  async finishTurn(turnId: string, patch: TurnFinish, terminalEvent: SessionEvent): Promise<void> {
    const turn = this.s.turns.get(turnId);
    if (!turn) throw new Error(`finishTurn: no turn ${turnId}`);
    this.checkEvents([terminalEvent]);
    applyPatch(turn, patch, TURN_FINISH_FIELDS);
    turn.lastSeq = terminalEvent.seq;
    this.insertEvents([terminalEvent]);
  }

  async getTurn(id: string): Promise<TurnRecord | null> {
    const turn = this.s.turns.get(id);
    return turn ? copy(turn) : null;
  }

  async latestTurn(sessionId: string): Promise<TurnRecord | null> {
    let latest: TurnRecord | null = null;
    for (const turn of this.s.turns.values()) {
      if (turn.sessionId === sessionId && (latest === null || turn.firstSeq > latest.firstSeq)) latest = turn;
    }
    return latest ? copy(latest) : null;
  }

  async startTurn(turnId: string, promptEvent: SessionEvent): Promise<void> {
    const turn = this.s.turns.get(turnId);
    if (turn?.status !== 'queued') throw new Error(`startTurn: no queued turn ${turnId}`);
    this.checkEvents([promptEvent]);
    turn.status = 'running';
    this.insertEvents([promptEvent]);
  }

  async listUnfinishedTurns(sessionId?: string): Promise<TurnRecord[]> {
    return (
      [...this.s.turns.values()]
        .filter((turn) => turn.status === 'running' || turn.status === 'queued')
        .filter((turn) => sessionId === undefined || turn.sessionId === sessionId)
        // Per session in log order: that is queue order.
        .sort((a, b) =>
          a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : a.firstSeq - b.firstSeq,
        )
        .map((turn) => copy(turn))
    );
  }

  async sessionUsage(sessionId: string): Promise<{ usage: TokenUsage; costUsd: number }> {
    const { usage, costUsd } = sumTurns([...this.s.turns.values()].filter((t) => t.sessionId === sessionId));
    return { usage, costUsd };
  }

  async keyUsage(keyId: string, since: number): Promise<SessionUsage[]> {
    const bySession = new Map<string, TurnRecord[]>();
    for (const turn of this.s.turns.values()) {
      if (turn.createdAt < since || this.s.sessions.get(turn.sessionId)?.keyId !== keyId) continue;
      bySession.set(turn.sessionId, [...(bySession.get(turn.sessionId) ?? []), turn]);
    }
    return [...bySession.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([sessionId, turns]) => ({ sessionId, ...sumTurns(turns) }));
  }

  async appendEvents(events: SessionEvent[]): Promise<void> {
    this.checkEvents(events);
    this.insertEvents(events);
  }

  async listEvents(sessionId: string, afterSeq: number, limit: number): Promise<SessionEvent[]> {
    return this.log(sessionId)
      .filter((event) => event.seq > afterSeq)
      .slice(0, Math.max(0, limit))
      .map((event) => copy(event));
  }

  async lastEventSeq(sessionId: string): Promise<number> {
    // Never below the floor: after the log's tail was pruned, the next event still gets a new id.
    return Math.max(this.log(sessionId).at(-1)?.seq ?? 0, this.s.floors.get(sessionId) ?? 0);
  }

  async listMessages(
    sessionId: string,
    page: { limit: number; offset: number },
  ): Promise<Page<SessionEvent>> {
    const messages = this.log(sessionId).filter((event) => event.type === 'message');
    return {
      items: messages.slice(page.offset, page.offset + page.limit).map((event) => copy(event)),
      total: messages.length,
    };
  }

  async countMessages(sessionId: string): Promise<number> {
    return this.log(sessionId).filter((event) => event.type === 'message').length;
  }

  // --- helpers --------------------------------------------------------------------------------

  private active(): SessionRecord[] {
    return [...this.s.sessions.values()].filter((session) => session.status === 'active');
  }

  private log(sessionId: string): SessionEvent[] {
    return this.s.events.get(sessionId) ?? [];
  }

  /** What the events primary key and foreign key check, for a whole batch before any write. */
  private checkEvents(events: SessionEvent[]): void {
    const seen = new Set<string>();
    for (const event of events) {
      if (!this.s.sessions.has(event.sessionId)) throw new Error(`event: no session ${event.sessionId}`);
      const id = `${event.sessionId}\u0000${event.seq}`;
      const duplicate = seen.has(id) || this.log(event.sessionId).some((stored) => stored.seq === event.seq);
      if (duplicate) throw new EventSeqTaken(event.sessionId, event.seq);
      seen.add(id);
    }
  }

  private insertEvents(events: SessionEvent[]): void {
    for (const event of events) {
      const log = this.s.events.get(event.sessionId) ?? [];
      log.push(copy(event));
      // Appends come in order; sort only when one does not, to keep the log ascending.
      const previous = log.at(-2);
      if (previous && previous.seq > event.seq) log.sort((a, b) => a.seq - b.seq);
      this.s.events.set(event.sessionId, log);
    }
  }
}

function sumTurns(turns: TurnRecord[]): { turns: number; usage: TokenUsage; costUsd: number } {
  const usage: TokenUsage = { ...ZERO_USAGE };
  let costUsd = 0;
  for (const turn of turns) {
    addUsage(usage, turn.usage);
    costUsd += turn.costUsd;
  }
  return { turns: turns.length, usage, costUsd };
}

/** Every store port in memory, as the composition root would open them. */
export function memoryStores(store: MemoryStore = new MemoryStore()): Stores {
  return {
    keys: store,
    sessions: store,
    turns: store,
    events: store,
    idempotency: store,
    usage: store,
    transcripts: new MemoryTranscriptStore(store.transcriptEntries),
    managed: new MemoryManagedStore(),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
