/**
 * Several instances behind a load balancer, sharing PostgreSQL (and Redis). Each session's Claude
 * Code process lives on one instance, its owner (Ownership: a lease per instance, renewed by a
 * heartbeat). A request that needs the process and lands elsewhere is forwarded to the owner; when
 * the owner's lease has expired, the instance that got the request takes the session over:
 *
 * - the take-over is one atomic claim in the database, so exactly one instance wins it;
 * - the winner records the turns the dead owner was running as interrupted (their terminal
 *   `error` event, AGENT_ERROR `server_restart`), runs its queued turns, and serves the session
 *   from then on, resuming the conversation from the stored transcript at its next turn.
 *
 * Nobody has to ask: at every heartbeat each instance also takes over the sessions whose owner
 * is gone, so a cut turn is recorded (and its streams end) within about one lease.
 */
import { sessionMoving, sessionNotFound } from './error-situations.js';
import type { EventLog } from './event-log.js';
import type { Location, Placement } from './placement.js';
import type { InstanceInfo, Logger, Ownership } from './ports.js';
import { localActivity, storedActivity, type SessionActivity } from './session-activity.js';
import type { SessionRegistry } from './session-registry.js';
import type { SessionRuntime } from './session-runtime.js';
import type { Stores } from './stores.js';
import type { TurnService } from './turn-service.js';
import type { ApiKeyRecord } from './types.js';

/** The workspaces folder, which every instance must see the same (a shared volume). */
export interface SharedVolume {
  /** Leaves this instance's mark in the folder; returns it. */
  mark(instanceId: string): Promise<string>;
  /** Whether another instance's mark is in the folder as seen from here. */
  sees(instanceId: string, mark: string): Promise<boolean>;
  /** Removes this instance's mark. */
  unmark(instanceId: string): Promise<void>;
  readonly path: string;
}

export interface ClusterPlacementDeps {
  instance: InstanceInfo;
  leaseMs: number;
  ownership: Ownership;
  volume: SharedVolume;
  registry: SessionRegistry;
  stores: Pick<Stores, 'sessions' | 'turns' | 'events'>;
  events: EventLog;
  turns: TurnService;
  logger: Logger;
}

/** How many sessions of gone instances one heartbeat takes over at most. */
const ORPHANS_PER_SWEEP = 100;

/** The workspaces folder is not shared with another instance: refuse to start. */
export class UnsharedVolumeError extends Error {
  override name = 'UnsharedVolumeError';
}

export class ClusterPlacement implements Placement {
  readonly clustered = true;
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private lastRenewedAt = 0;
  /** Take-overs under way, so that concurrent requests for one session wait for the same one. */
  private readonly adopting = new Map<string, Promise<SessionRuntime | null>>();

  constructor(private readonly deps: ClusterPlacementDeps) {}

  async claimNew(sessionId: string): Promise<void> {
    const claim = await this.deps.ownership.claim(sessionId, this.deps.instance.id);
    if (claim.kind !== 'mine') throw new Error(`a new session id ${sessionId} is owned elsewhere`);
  }

  async locate(key: ApiKeyRecord, sessionId: string, forwarded: boolean): Promise<Location> {
    const { registry, ownership, instance } = this.deps;
    if (registry.has(sessionId)) return { kind: 'here', session: registry.find(key, sessionId) };
    await this.storedSessionOf(key, sessionId);
    const claim = await ownership.claim(sessionId, instance.id);
    if (claim.kind === 'elsewhere') {
      if (!forwarded) return { kind: 'forward', url: claim.owner.url };
      // Forwarded here, yet another instance has it now: the session is moving. Never forward
      // twice (no loops); the client retries and finds its owner.
      throw sessionMoving(sessionId);
    }
    if (!(await this.adopt(sessionId))) throw sessionNotFound(sessionId);
    return { kind: 'here', session: registry.find(key, sessionId) };
  }

  async view(key: ApiKeyRecord, sessionId: string): Promise<SessionActivity> {
    if (this.deps.registry.has(sessionId))
      return localActivity(this.deps.registry.find(key, sessionId), this.deps.events);
    await this.storedSessionOf(key, sessionId);
    return storedActivity(sessionId, this.deps.stores);
  }

  async start(): Promise<void> {
    const { ownership, instance, leaseMs, volume, logger } = this.deps;
    const mark = await volume.mark(instance.id);
    await ownership.register(instance, leaseMs, mark);
    this.lastRenewedAt = Date.now();
    for (const other of await ownership.liveInstances(instance.id)) {
      if (other.volumeMark !== null && !(await volume.sees(other.id, other.volumeMark))) {
        await ownership.leave(instance.id);
        await volume.unmark(instance.id);
        throw new UnsharedVolumeError(
          `The workspaces folder ${volume.path} is not shared with the instance at ${other.url}: its mark ` +
            'is not there. Every instance must mount the same DATA_DIR volume at the same path ' +
            '(see docs/deployment.md).',
        );
      }
    }
    logger.info(
      { instanceId: instance.id, url: instance.url, leaseMs },
      'joined the instances sharing the database',
    );
    await this.sweep();
    this.timer = setInterval(() => void this.heartbeat(), Math.max(200, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sweeping?.catch(() => undefined);
    await this.deps.ownership.leave(this.deps.instance.id);
    await this.deps.volume.unmark(this.deps.instance.id).catch(() => undefined);
  }

  healthy(): boolean {
    return Date.now() - this.lastRenewedAt < this.deps.leaseMs;
  }

  /** The session's record, if the caller may see it; SESSION_NOT_FOUND otherwise. */
  private async storedSessionOf(key: ApiKeyRecord, sessionId: string): Promise<void> {
    const record = await this.deps.stores.sessions.getSession(sessionId);
    if (!record || record.status !== 'active' || record.keyId !== key.id) throw sessionNotFound(sessionId);
  }

  private async heartbeat(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = (async () => {
      const { ownership, instance, leaseMs, logger } = this.deps;
      try {
        if (await ownership.renew(instance.id, leaseMs)) {
          this.lastRenewedAt = Date.now();
        } else {
          // Our lease ran out (the database was out of reach, or the process stalled): other
          // instances may have taken our sessions over. Sessions that are still ours stay; the
          // others are dropped here at the next request that finds them owned elsewhere.
          logger.error({ instanceId: instance.id }, 'this instance’s lease had expired; joining again');
          await ownership.register(instance, leaseMs, await this.deps.volume.mark(instance.id));
          this.lastRenewedAt = Date.now();
        }
        await this.sweep();
      } catch (err) {
        logger.warn({ err }, 'instance heartbeat failed; retrying at the next one');
      }
    })().finally(() => {
      this.sweeping = null;
    });
    await this.sweeping;
  }

  /** Takes over the sessions whose owner is gone. */
  private async sweep(): Promise<void> {
    const { ownership, instance } = this.deps;
    for (const sessionId of await ownership.orphans(ORPHANS_PER_SWEEP)) {
      if (this.deps.registry.has(sessionId)) continue;
      const claim = await ownership.claim(sessionId, instance.id);
      if (claim.kind === 'mine') await this.adopt(sessionId);
    }
  }

  /** Loads a session just claimed: its cut turns are recorded, its queued ones run. */
  private adopt(sessionId: string): Promise<SessionRuntime | null> {
    const existing = this.adopting.get(sessionId);
    if (existing) return existing;
    const adoption = this.load(sessionId).finally(() => this.adopting.delete(sessionId));
    this.adopting.set(sessionId, adoption);
    return adoption;
  }

  private async load(sessionId: string): Promise<SessionRuntime | null> {
    const { registry, stores, events, turns, logger } = this.deps;
    const already = registry.peek(sessionId);
    if (already) return already;
    const record = await stores.sessions.getSession(sessionId);
    if (!record || record.status !== 'active') return null;
    // Whatever this instance remembered of the log (it may have owned the session before) is stale.
    await events.forget(sessionId);
    const unfinished = await stores.turns.listUnfinishedTurns(sessionId);
    const cut = await turns.recordInterrupted(unfinished.filter((t) => t.status === 'running'));
    const session = registry.add(record);
    const queued = await turns.requeue(unfinished.filter((t) => t.status === 'queued'));
    logger.info({ sessionId, interrupted: cut, queued }, 'took over a session whose instance is gone');
    return session;
  }
}
