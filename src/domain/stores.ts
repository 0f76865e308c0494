/**
 * The storage ports: one small interface per kind of record, so a new store (PostgreSQL next)
 * can be brought up, and checked by its contract suite (test/store/contract), one port at a time.
 * One adapter class may implement several of them; `Stores` is the set the composition root
 * hands the domain, and each service asks only for the members it uses (`Pick<Stores, …>`).
 *
 * Every method is async so that a networked database fills the same shape, and resolves only
 * once its write is durable: the server answers after that.
 */
import type {
  ApiKeyRecord,
  IdempotencyRecord,
  Page,
  SessionEvent,
  SessionRecord,
  SessionUsage,
  TurnRecord,
} from './types.js';
import type { TokenUsage } from './events.js';

export type KeyPatch = Partial<Pick<ApiKeyRecord, 'name' | 'lastUsedAt' | 'revokedAt' | 'policy'>>;
export type SessionPatch = Partial<
  Pick<SessionRecord, 'status' | 'lastActivityAt' | 'endedAt' | 'endReason' | 'claudeSessionId'>
>;
export type TurnFinish = Pick<
  TurnRecord,
  'status' | 'endedAt' | 'completion' | 'error' | 'usage' | 'costUsd'
>;

export interface KeyStore {
  insertKey(key: ApiKeyRecord): Promise<void>;
  findKeyByHash(hash: string): Promise<ApiKeyRecord | null>;
  getKey(id: string): Promise<ApiKeyRecord | null>;
  /** Ordered by createdAt, then id. */
  listKeys(): Promise<ApiKeyRecord[]>;
  countKeys(): Promise<number>;
  /** A field given as `undefined` is left as it is; an unknown id is a no-op. */
  updateKey(id: string, patch: KeyPatch): Promise<void>;
}

export interface SessionStore {
  /** With `idempotency`, its record is stored in the same transaction. */
  insertSession(session: SessionRecord, idempotency?: IdempotencyRecord): Promise<void>;
  getSession(id: string): Promise<SessionRecord | null>;
  /** Active sessions of one key, newest first. */
  listSessions(keyId: string, page: { limit: number; offset: number }): Promise<Page<SessionRecord>>;
  /** Every active session of every key (start-up, the sweeps), by createdAt then id. */
  listActiveSessions(): Promise<SessionRecord[]>;
  updateSession(id: string, patch: SessionPatch): Promise<void>;
}

/**
 * Turns, each written together with the event that begins or ends it: the turn and its event
 * are in one transaction, so the log and the turns never disagree after a crash.
 */
export interface TurnStore {
  /**
   * Records a new turn (running, or queued) and its first event, in one transaction, with the
   * request's idempotency record when there is one.
   */
  beginTurn(turn: TurnRecord, firstEvent: SessionEvent, idempotency?: IdempotencyRecord): Promise<void>;
  /** Starts a queued turn: status `running`, and its prompt event appended, in one transaction. */
  startTurn(turnId: string, promptEvent: SessionEvent): Promise<void>;
  /**
   * Ends a turn and appends its terminal event (`complete` or `error`) in one transaction; the
   * turn's `lastSeq` becomes that event's. An unknown turn throws.
   */
  finishTurn(turnId: string, patch: TurnFinish, terminalEvent: SessionEvent): Promise<void>;
  getTurn(id: string): Promise<TurnRecord | null>;
  /** The most recent turn of a session (by `firstSeq`), if any. */
  latestTurn(sessionId: string): Promise<TurnRecord | null>;
  /**
   * Turns left `queued` or `running` (after a crash, at start-up): by session, in log (queue)
   * order; of one session only when `sessionId` is given (one taken over from another instance).
   */
  listUnfinishedTurns(sessionId?: string): Promise<TurnRecord[]>;
}

/**
 * An event numbered at or below what its session's log already gave out: another writer (another
 * instance of the server, sharing the database) appended to the log since this one last looked.
 * Stores that several processes share throw it from every write that carries an event, with
 * nothing of that write stored; EventLog then reads the log's head again and renumbers.
 */
export class EventSeqTaken extends Error {
  override name = 'EventSeqTaken';
  constructor(
    readonly sessionId: string,
    readonly seq: number,
  ) {
    super(`event ${seq} of session ${sessionId} is already taken`);
  }
}

/** The sessions' append-only event logs (src/domain/event-log.ts is their only writer). */
export interface EventStore {
  appendEvents(events: SessionEvent[]): Promise<void>;
  /** Events with `seq > afterSeq`, ascending, at most `limit`. */
  listEvents(sessionId: string, afterSeq: number, limit: number): Promise<SessionEvent[]>;
  /** The highest `seq` of the session, 0 when it has no event. */
  lastEventSeq(sessionId: string): Promise<number>;
  /** The `message` events of a session in order: the history. */
  listMessages(sessionId: string, page: { limit: number; offset: number }): Promise<Page<SessionEvent>>;
  countMessages(sessionId: string): Promise<number>;
  /**
   * Retention: deletes the session's events older than `createdBefore`, except `message` events
   * (the history) and each turn's terminal event (a replay of any turn still ends, and its
   * outcome stays readable). Returns the log's floor afterwards: the highest sequence number ever
   * pruned (0: nothing was), below which the log has gaps.
   */
  pruneEvents(sessionId: string, createdBefore: number): Promise<number>;
  logFloor(sessionId: string): Promise<number>;
  /**
   * Deletes the event logs (and anything else kept only to run them, such as Claude Code's
   * transcripts) of sessions that ended before `endedBefore`; their records and turns stay, for
   * usage. Returns how many sessions were purged.
   */
  purgeEndedSessions(endedBefore: number): Promise<number>;
}

export interface IdempotencyStore {
  findIdempotency(keyId: string, key: string): Promise<IdempotencyRecord | null>;
  /** Deletes idempotency records made before `createdBefore`; returns how many. */
  purgeIdempotency(createdBefore: number): Promise<number>;
}

export interface UsageStore {
  /** Sum of the usage and cost of every turn of the session. */
  sessionUsage(sessionId: string): Promise<{ usage: TokenUsage; costUsd: number }>;
  /**
   * Per session of the key, the usage and cost of its turns created at or after `since`
   * (sessions with no such turn are left out), ordered by session id.
   */
  keyUsage(keyId: string, since: number): Promise<SessionUsage[]>;
}

/** Where a transcript lives: Claude Code's project (its cwd, sanitized) and session id. */
export interface TranscriptKey {
  projectKey: string;
  sessionId: string;
  /** Absent: the main transcript; set for a subagent's. */
  subpath?: string;
}

/** One line of Claude Code's transcript, kept as the JSON object it is. */
export type TranscriptEntry = { type: string; uuid?: string } & Record<string, unknown>;

/**
 * Claude Code's own record of each conversation, which a new process resumes from. The shape is
 * the Claude Agent SDK's `sessionStore` option (append, load, …), so an implementation is handed
 * to Claude Code as it is; entries with a uuid already stored are ignored (a retried batch).
 */
export interface TranscriptStore {
  append(key: TranscriptKey, entries: TranscriptEntry[]): Promise<void>;
  /** null when nothing was stored under the key. */
  load(key: TranscriptKey): Promise<TranscriptEntry[] | null>;
  listSessions(projectKey: string): Promise<Array<{ sessionId: string; mtime: number }>>;
  listSubkeys(key: { projectKey: string; sessionId: string }): Promise<string[]>;
  delete(key: TranscriptKey): Promise<void>;
  /** Has Claude Code stored anything of this session (so a new process resumes it)? */
  has(claudeSessionId: string): Promise<boolean>;
}

/**
 * What the Managed Agents API (`/v1`, docs/managed-agents.md) keeps besides the seed's sessions:
 * agents (one record per version), environments, uploaded files' metadata, and the `/v1` view of
 * a session (its agent snapshot, environment, title, resources). The body is the resource's JSON
 * as that API shows it; the store only needs its owner, times and archive mark to find and list.
 */
export type ManagedObjectKind = 'agent' | 'environment' | 'file' | 'session';

export interface ManagedObjectRecord {
  kind: ManagedObjectKind;
  id: string;
  /** 1 for everything but agents, whose every update is a new version. */
  version: number;
  keyId: string;
  /** The resource's JSON. */
  data: string;
  createdAt: number;
  updatedAt: number;
  archivedAt: number | null;
}

export interface ManagedObjectStore {
  /** Stores a record; one with the same kind, id and version is replaced. */
  putObject(record: ManagedObjectRecord): Promise<void>;
  /** The given version of an object, or its latest (highest) one; null when there is none. */
  getObject(kind: ManagedObjectKind, id: string, version?: number): Promise<ManagedObjectRecord | null>;
  /**
   * The latest version of each object of a kind that the key owns, oldest first (createdAt,
   * then id); archived ones only with `includeArchived`.
   */
  listObjects(
    kind: ManagedObjectKind,
    keyId: string,
    page: { limit: number; offset: number; includeArchived: boolean },
  ): Promise<Page<ManagedObjectRecord>>;
  /** Every version of one object, newest first. */
  listVersions(kind: ManagedObjectKind, id: string): Promise<ManagedObjectRecord[]>;
  /** Deletes every version of an object; an unknown id is a no-op. */
  deleteObject(kind: ManagedObjectKind, id: string): Promise<void>;
}

/** Every store the server runs on, as the composition root opens them. */
export interface Stores {
  keys: KeyStore;
  sessions: SessionStore;
  turns: TurnStore;
  events: EventStore;
  idempotency: IdempotencyStore;
  usage: UsageStore;
  transcripts: TranscriptStore;
  managed: ManagedObjectStore;
  /** Resolves when the store answers a trivial query; for health checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
