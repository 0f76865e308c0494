/**
 * The live sessions of this server, by id: who owns them, how many there are, and the places
 * held by creates that passed the caps but are not stored yet. Lookups for a request go through
 * `find`, which answers SESSION_NOT_FOUND for another key's session as for an unknown one.
 */
import { keySessionCap, serverSessionCap, sessionNotFound } from './error-situations.js';
import { SessionRuntime } from './session-runtime.js';
import type { ApiKeyRecord, SessionRecord } from './types.js';

export class SessionRegistry {
  private readonly live = new Map<string, SessionRuntime>();
  /** Creates past the cap checks that are not in `live` yet. */
  private readonly reserved = new Reservations();

  constructor(private readonly maxLiveSessions: number) {}

  /** Loads the active sessions of the store (at start). */
  load(records: readonly SessionRecord[]): void {
    for (const record of records) this.live.set(record.id, new SessionRuntime(record));
  }

  /**
   * Holds a place for a new session of `key`, in the same synchronous step as the checks: parallel
   * creates can neither pass the server's cap nor the key's. Returns the release function, to
   * call once the session is added (or its create failed).
   */
  reserve(key: ApiKeyRecord, keyMax: number | null, cwd: string | null = null): () => void {
    if (this.live.size + this.reserved.total >= this.maxLiveSessions)
      throw serverSessionCap(this.maxLiveSessions);
    if (keyMax !== null && this.openSessionsOf(key.id) >= keyMax) throw keySessionCap(keyMax);
    this.reserved.add(key.id, cwd);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.reserved.remove(key.id, cwd);
    };
  }

  add(record: SessionRecord): SessionRuntime {
    const session = new SessionRuntime(record);
    this.live.set(record.id, session);
    return session;
  }

  remove(sessionId: string): void {
    this.live.delete(sessionId);
  }

  /** An active session by id, whoever owns it (for internal lookups, never for a request). */
  peek(sessionId: string): SessionRuntime | undefined {
    return this.live.get(sessionId);
  }

  /** The caller's active session, or SESSION_NOT_FOUND (also for another key's session). */
  find(key: ApiKeyRecord, sessionId: string): SessionRuntime {
    const session = this.live.get(sessionId);
    if (!session || session.ending || session.record.keyId !== key.id) throw sessionNotFound(sessionId);
    return session;
  }

  has(sessionId: string): boolean {
    return this.live.has(sessionId);
  }

  all(): SessionRuntime[] {
    return [...this.live.values()];
  }

  /** Sessions not ended (each may take messages). */
  get activeCount(): number {
    return this.live.size;
  }

  get maxLive(): number {
    return this.maxLiveSessions;
  }

  get atCapacity(): boolean {
    return this.live.size >= this.maxLiveSessions;
  }

  /** Turns running now. */
  get runningCount(): number {
    return this.count((s) => s.busy);
  }

  /** Sessions with a live Claude Code process. */
  get processCount(): number {
    return this.count((s) => s.hasLiveProcess);
  }

  /** The pid of a session's Claude Code process, if it has a live one. */
  pidOf(sessionId: string): number | null {
    return this.live.get(sessionId)?.pid ?? null;
  }

  /** Open sessions of a key, counting creates under way. */
  openSessionsOf(keyId: string): number {
    return this.reserved.of(keyId) + this.count((s) => s.record.keyId === keyId && !s.ending);
  }

  /** The working directories of the live sessions and of the creates under way. */
  cwdsInUse(): string[] {
    return [...this.all().map((s) => s.record.config.cwd), ...this.reserved.cwds];
  }

  /** Turns of a key running now. */
  runningTurnsOf(keyId: string): number {
    return this.count((s) => s.record.keyId === keyId && s.busy);
  }

  private count(predicate: (s: SessionRuntime) => boolean): number {
    let n = 0;
    for (const s of this.live.values()) if (predicate(s)) n++;
    return n;
  }
}

/** Session creates past the cap checks, per key and in total, and the cwds they will work in. */
class Reservations {
  total = 0;
  private readonly byKey = new Map<string, number>();
  readonly cwds = new Set<string>();

  add(keyId: string, cwd: string | null): void {
    this.total++;
    this.byKey.set(keyId, this.of(keyId) + 1);
    if (cwd) this.cwds.add(cwd);
  }

  remove(keyId: string, cwd: string | null): void {
    if (cwd) this.cwds.delete(cwd);
    this.total--;
    const left = this.of(keyId) - 1;
    if (left > 0) this.byKey.set(keyId, left);
    else this.byKey.delete(keyId);
  }

  of(keyId: string): number {
    return this.byKey.get(keyId) ?? 0;
  }
}
