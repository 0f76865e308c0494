/**
 * Whether the server takes new work. Set once shutdown begins: every new session or turn is then
 * a 503 with a retry hint, queued turns stay queued (they run after the restart), and once the
 * processes are stopped none starts again.
 */
import { shuttingDown } from './error-situations.js';

export class Admission {
  private drainingFlag = false;
  private stoppedFlag = false;

  get draining(): boolean {
    return this.drainingFlag;
  }

  /** No Claude Code process may start any more. */
  get stopped(): boolean {
    return this.stoppedFlag;
  }

  /** Shutdown has begun: refuse new work. */
  drain(): void {
    this.drainingFlag = true;
  }

  /** The processes are being stopped: refuse work and any new process. */
  stop(): void {
    this.drainingFlag = true;
    this.stoppedFlag = true;
  }

  /** Refuses work once the server is shutting down. */
  assertAccepting(): void {
    if (this.drainingFlag) throw shuttingDown();
  }
}
