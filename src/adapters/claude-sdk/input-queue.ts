/**
 * A push-based async iterable: the prompt source of a long-lived `query()` in the SDK's
 * streaming-input mode. Each `push` becomes one user message for the running Claude Code process.
 */
export class InputQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | null = null;
  private ended = false;

  push(item: T): void {
    if (this.ended) throw new Error('InputQueue: push after end');
    this.items.push(item);
    this.signal();
  }

  /** Ends the iteration after the queued items: Claude Code then exits on its own. */
  end(): void {
    this.ended = true;
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      while (this.items.length > 0) yield this.items.shift() as T;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
