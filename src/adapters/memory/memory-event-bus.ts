/** In-process publish/subscribe of new log events, per session. */
import type { EventBus } from '../../domain/ports.js';
import type { SessionEvent } from '../../domain/types.js';

type Listener = (event: SessionEvent) => void;

export class MemoryEventBus implements EventBus {
  private readonly listeners = new Map<string, Set<Listener>>();

  publish(event: SessionEvent): void {
    for (const listener of this.listeners.get(event.sessionId) ?? []) listener(event);
  }

  subscribe(sessionId: string, listener: Listener): () => void {
    let set = this.listeners.get(sessionId);
    if (!set) {
      set = new Set();
      this.listeners.set(sessionId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(sessionId);
    };
  }
}
