import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AgentExit, AgentProcess, AgentTurnOutcome } from './ports.js';
import type { TurnEnding } from './turn-outcome.js';
import { INTERRUPT_GRACE_MS, TurnRun } from './turn-run.js';
import { ZERO_USAGE } from './types.js';

/** A process that only records what the run asks of it. */
class RecordingProcess implements AgentProcess {
  readonly pid = 4242;
  readonly exited = false;
  interrupts = 0;
  closes = 0;

  runTurn(): Promise<AgentTurnOutcome> {
    return new Promise(() => undefined);
  }

  async interrupt(): Promise<void> {
    this.interrupts++;
  }

  async close(): Promise<void> {
    this.closes++;
  }

  onExit(_listener: (exit: AgentExit) => void): void {
    // Never exits.
  }
}

const ENDING: TurnEnding = {
  status: 'interrupted',
  completion: null,
  error: null,
  usage: ZERO_USAGE,
  costUsd: 0,
};

describe('TurnRun', () => {
  let cancels: TurnRun[];
  let run: TurnRun;
  let process: RecordingProcess;

  beforeEach(() => {
    vi.useFakeTimers();
    cancels = [];
    run = new TurnRun('msg_1', 'the prompt', 60_000, async (r) => {
      cancels.push(r);
    });
    process = new RecordingProcess();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts queued, with what it was made with', () => {
    expect(run).toMatchObject({
      id: 'msg_1',
      prompt: 'the prompt',
      timeoutMs: 60_000,
      state: 'queued',
      cancelled: false,
      interrupted: false,
    });
  });

  describe('a queued turn', () => {
    it('is cancelled, not interrupted: onCancel is called once, however often it is asked', async () => {
      await Promise.all([run.interrupt(), run.interrupt()]);
      await run.interrupt();
      expect(cancels).toEqual([run]);
      expect(run.cancelled).toBe(true);
      // Nothing reached a process, and no timer was set.
      expect(run.interrupted).toBe(false);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('that has ended is not cancelled any more', async () => {
      run.end(ENDING);
      await run.interrupt();
      expect(cancels).toEqual([]);
      expect(run.state).toBe('ended');
    });
  });

  describe('a running turn', () => {
    beforeEach(() => {
      run.state = 'running';
    });

    it('interrupted before its process is attached: the interrupt reaches the process on attach', async () => {
      await run.interrupt();
      expect(run.interrupted).toBe(true);
      expect(cancels).toEqual([]);
      expect(process.interrupts).toBe(0);
      run.attach(process);
      await vi.advanceTimersByTimeAsync(0);
      expect(process.interrupts).toBe(1);
      // And the grace period runs from there.
      await vi.advanceTimersByTimeAsync(INTERRUPT_GRACE_MS);
      expect(process.closes).toBe(1);
    });

    it('attached without an interrupt: nothing is sent', async () => {
      run.attach(process);
      await vi.advanceTimersByTimeAsync(INTERRUPT_GRACE_MS * 2);
      expect(process).toMatchObject({ interrupts: 0, closes: 0 });
      expect(run.interrupted).toBe(false);
    });

    it('a Claude Code that does not stop within the grace period has its process closed', async () => {
      run.attach(process);
      await run.interrupt();
      expect(process.interrupts).toBe(1);
      await vi.advanceTimersByTimeAsync(INTERRUPT_GRACE_MS - 1);
      expect(process.closes).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(process.closes).toBe(1);
    });

    it('a second interrupt is sent again, but the grace period is not restarted', async () => {
      run.attach(process);
      await run.interrupt();
      await vi.advanceTimersByTimeAsync(INTERRUPT_GRACE_MS / 2);
      await run.interrupt();
      expect(process.interrupts).toBe(2);
      await vi.advanceTimersByTimeAsync(INTERRUPT_GRACE_MS / 2);
      expect(process.closes).toBe(1);
      await vi.advanceTimersByTimeAsync(INTERRUPT_GRACE_MS * 2);
      expect(process.closes).toBe(1);
    });

    it('a turn that ends in time keeps its process', async () => {
      run.attach(process);
      await run.interrupt();
      run.end(ENDING);
      await vi.advanceTimersByTimeAsync(INTERRUPT_GRACE_MS * 2);
      expect(process.closes).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('detached (its turn returned), the grace timer is gone and a later interrupt reaches nothing', async () => {
      run.attach(process);
      await run.interrupt();
      run.detach();
      await vi.advanceTimersByTimeAsync(INTERRUPT_GRACE_MS * 2);
      expect(process.closes).toBe(0);
      await run.interrupt();
      expect(process.interrupts).toBe(1);
    });
  });

  it('end resolves done with the ending, and a later interrupt does nothing', async () => {
    run.state = 'running';
    run.attach(process);
    run.end(ENDING);
    await expect(run.done).resolves.toBe(ENDING);
    expect(run.state).toBe('ended');
    await run.interrupt();
    expect(process.interrupts).toBe(0);
    expect(cancels).toEqual([]);
  });
});
