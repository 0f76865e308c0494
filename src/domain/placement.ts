/**
 * Where a session's requests are served. One instance (SQLite): here, always, from the registry.
 * Several instances (cluster-placement.ts): a request that needs the session's Claude Code
 * process (a turn, an interrupt, an approval, its live details, its end) is served by the
 * instance that owns the session, and forwarded there by any other; streams and the history are
 * served by every instance from the shared store and event bus.
 */
import type { EventLog } from './event-log.js';
import { localActivity, type SessionActivity } from './session-activity.js';
import type { SessionRegistry } from './session-registry.js';
import type { SessionRuntime } from './session-runtime.js';
import type { ApiKeyRecord } from './types.js';

export type Location =
  | { kind: 'here'; session: SessionRuntime }
  /** Another instance runs it: send the request to `url` (its INSTANCE_URL). */
  | { kind: 'forward'; url: string };

export interface Placement {
  /** Several instances share the store: requests may be forwarded. */
  readonly clustered: boolean;
  /** A session being created here is this instance's (before it is stored). */
  claimNew(sessionId: string): Promise<void>;
  /**
   * Where a request that needs the caller's session's process is served; SESSION_NOT_FOUND for
   * an unknown, ended or another key's session. `forwarded`: the request was forwarded here
   * already, and must not be forwarded again.
   */
  locate(key: ApiKeyRecord, sessionId: string, forwarded: boolean): Promise<Location>;
  /** The caller's session as a stream sees it, on any instance; SESSION_NOT_FOUND as above. */
  view(key: ApiKeyRecord, sessionId: string): Promise<SessionActivity>;
  /** Joins the other instances (after the server listens). */
  start(): Promise<void>;
  /** Leaves them: its sessions go to the others (at shutdown, after the drain). */
  stop(): Promise<void>;
  /** Whether this instance may serve now (its lease is alive). */
  healthy(): boolean;
}

/** The one instance: every session is here. No lease, no lookup beyond the registry. */
export class SoloPlacement implements Placement {
  readonly clustered = false;

  constructor(
    private readonly registry: SessionRegistry,
    private readonly events: EventLog,
  ) {}

  async claimNew(): Promise<void> {}

  async locate(key: ApiKeyRecord, sessionId: string): Promise<Location> {
    return { kind: 'here', session: this.registry.find(key, sessionId) };
  }

  async view(key: ApiKeyRecord, sessionId: string): Promise<SessionActivity> {
    return localActivity(this.registry.find(key, sessionId), this.events);
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  healthy(): boolean {
    return true;
  }
}
