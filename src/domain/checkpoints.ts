/**
 * Checkpoints of a session's workspace: one before and one after every turn, one after each
 * client change (upload, delete) and around each rewind, kept by the `WorkspaceSnapshots` port.
 * What a turn changed is the difference between its two; a rewind puts the workspace back to a
 * turn's `before`; a fork copies a turn's `after` into a new workspace.
 */
import { checkpointMissing } from './error-situations.js';
import type { DiffFile, FileChange, Logger, WorkspaceSnapshots } from './ports.js';
import type { SessionRecord } from './types.js';

const beforeTurn = (turnId: string) => `turns/${turnId}/before`;
const afterTurn = (turnId: string) => `turns/${turnId}/after`;

export interface TurnChanges {
  /** The snapshot after the turn. */
  checkpoint: string;
  files: FileChange[];
}

export class Checkpoints {
  constructor(
    private readonly snapshots: WorkspaceSnapshots,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  /** The workspace as a turn found it (a failure is logged: the turn runs, without a diff). */
  async beforeTurn(session: SessionRecord, turnId: string): Promise<void> {
    await this.snapshots
      .snapshot(session.id, session.config.cwd, beforeTurn(turnId), `before ${turnId}`)
      .catch((err: unknown) =>
        this.logger.warn({ err, sessionId: session.id, turnId }, 'snapshot before a turn failed'),
      );
  }

  /** The workspace as a turn left it, and what it changed; null when no snapshot could be made. */
  async afterTurn(session: SessionRecord, turnId: string): Promise<TurnChanges | null> {
    try {
      const before = await this.snapshots.idOf(session.id, beforeTurn(turnId));
      const { cwd } = session.config;
      if (!before) {
        await this.snapshots.snapshot(session.id, cwd, afterTurn(turnId), `after ${turnId}`);
        return null;
      }
      const after = await this.snapshots.snapshotSince(
        session.id,
        cwd,
        afterTurn(turnId),
        `after ${turnId}`,
        before,
      );
      return { checkpoint: after.id, files: after.changes };
    } catch (err) {
      this.logger.warn({ err, sessionId: session.id, turnId }, 'snapshot after a turn failed');
      return null;
    }
  }

  /** A client's upload or delete, recorded apart from the turns. */
  async recordClientChange(session: SessionRecord, what: string): Promise<string> {
    return this.snapshots.snapshot(session.id, session.config.cwd, `client/${this.now()}`, what);
  }

  /** The snapshots from before the turn `from` to after the turn `to`. */
  async range(sessionId: string, from: string, to: string): Promise<{ from: string; to: string }> {
    const start = await this.snapshots.idOf(sessionId, beforeTurn(from));
    if (!start) throw checkpointMissing(from);
    const end = await this.snapshots.idOf(sessionId, afterTurn(to));
    if (!end) throw checkpointMissing(to);
    return { from: start, to: end };
  }

  diff(sessionId: string, range: { from: string; to: string }): Promise<string> {
    return this.snapshots.diff(sessionId, range.from, range.to);
  }

  diffFiles(sessionId: string, range: { from: string; to: string }): Promise<DiffFile[]> {
    return this.snapshots.diffFiles(sessionId, range.from, range.to);
  }

  /** Puts the workspace back as it was before the turn; returns that snapshot's id. */
  async restoreBefore(session: SessionRecord, turnId: string): Promise<string> {
    const id = await this.snapshots.idOf(session.id, beforeTurn(turnId));
    if (!id) throw checkpointMissing(turnId);
    await this.snapshots.restore(session.id, session.config.cwd, id);
    return id;
  }

  /** The snapshot after a turn (checked to exist), for a fork. */
  async afterOf(sessionId: string, turnId: string): Promise<string> {
    const id = await this.snapshots.idOf(sessionId, afterTurn(turnId));
    if (!id) throw checkpointMissing(turnId);
    return id;
  }

  copyInto(sessionId: string, id: string, targetDir: string): Promise<void> {
    return this.snapshots.copyInto(sessionId, id, targetDir);
  }

  remove(sessionId: string): Promise<void> {
    return this.snapshots.remove(sessionId);
  }
}
