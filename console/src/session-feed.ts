/**
 * One open session: its history, then its event stream, kept in a `Transcript` (transcript.ts)
 * that the chat view draws. Resumes from the last event seen (`Last-Event-ID`) whenever the
 * stream drops, and after a reload starts from the history and the last turn's events.
 */
import type { Api } from './api.js';
import { describeError, errorFrom } from './api.js';
import { readEvents, type StreamEvent } from './sse.js';
import { applyEvent, emptyTranscript, isBusy, type Transcript } from './transcript.js';

interface HistoryItem {
  sequence: number;
  source: string;
  turnId: string;
}

interface HistoryPage {
  messages: HistoryItem[];
  pagination: { hasMore: boolean };
}

const RECONNECT_DELAY_MS = 1000;
/** Turns replayed whole from the event log on opening (each costs its events from the hourly bucket). */
const REPLAYED_TURNS = 10;

export class SessionFeed {
  state: Transcript = emptyTranscript();
  private listeners = new Set<(t: Transcript) => void>();
  private abort = new AbortController();
  private following = false;
  /** A turn was sent since the current stream opened: follow again even if it ends idle. */
  private kicked = false;
  /** Where the first stream starts, before any event is applied (then the last event seen). */
  private replayFrom: number | null = null;

  constructor(
    private readonly api: Api,
    readonly sessionId: string,
  ) {}

  subscribe(listener: (t: Transcript) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private dispatch(event: StreamEvent): void {
    const next = applyEvent(this.state, event);
    if (next === this.state) return;
    this.state = next;
    for (const listener of this.listeners) listener(next);
  }

  /**
   * The last REPLAYED_TURNS turns (the running one among them) are replayed from the event log
   * and followed live, so their approvals, status, errors and ends are there as they happened.
   * Older turns come from the history, which spends no events: their messages, tool calls and
   * results, and their end as Claude Code's result message tells it.
   */
  async open(): Promise<void> {
    const items: HistoryItem[] = [];
    for (let offset = 0; ;) {
      const page = await this.api.json<HistoryPage>(
        'GET',
        `/sessions/${encodeURIComponent(this.sessionId)}/messages?limit=1000&offset=${offset}`,
      );
      items.push(...page.messages);
      offset += page.messages.length;
      if (!page.pagination.hasMore || page.messages.length === 0) break;
    }
    const prompts = items.filter((item) => item.source === 'client');
    const firstReplayed = prompts[Math.max(0, prompts.length - REPLAYED_TURNS)];
    if (!firstReplayed) return;
    for (const item of items) {
      if (item.sequence >= firstReplayed.sequence) break;
      this.dispatch({ id: item.sequence, event: 'history', data: item });
    }
    this.replayFrom = firstReplayed.sequence - 1;
    this.follow();
  }

  close(): void {
    this.abort.abort();
    this.listeners.clear();
  }

  /** Sends a prompt (queued behind a running turn) and follows its events. */
  async send(prompt: string): Promise<void> {
    await this.api.json('POST', `/sessions/${encodeURIComponent(this.sessionId)}/messages`, {
      prompt,
      stream: true,
      queue: true,
    });
    this.kicked = true;
    this.follow();
  }

  async interrupt(): Promise<void> {
    await this.api.json('POST', `/sessions/${encodeURIComponent(this.sessionId)}/interrupt`);
  }

  async answer(requestId: string, decision: 'allow' | 'deny', remember = false): Promise<void> {
    await this.api.json(
      'POST',
      `/sessions/${encodeURIComponent(this.sessionId)}/permissions/${encodeURIComponent(requestId)}`,
      decision === 'allow' ? { decision, remember } : { decision },
    );
  }

  /** Reads the stream from the last event seen until nothing runs; reconnects when it drops. */
  private follow(): void {
    if (this.following) return;
    this.following = true;
    void this.followLoop().finally(() => (this.following = false));
  }

  private async followLoop(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      this.kicked = false;
      let dropped = false;
      try {
        const after = Math.max(this.replayFrom ?? 0, this.state.lastEventId);
        const res = await this.api.stream(this.sessionId, after, signal);
        if (res.status === 204) {
          if (this.kicked) continue;
          return;
        }
        if (!res.ok || !res.body) {
          const err = await errorFrom(res);
          this.dispatch({ event: 'error', data: { code: err.code, message: describeError(err) } });
          return;
        }
        if (this.state.notice?.code === 'DISCONNECTED') this.dispatch({ event: 'reconnected', data: {} });
        await readEvents(res.body, (event) => this.dispatch(event));
      } catch (err) {
        if (signal.aborted) return;
        dropped = true;
        this.dispatch({ event: 'error', data: { code: 'DISCONNECTED', message: describeError(err) } });
      }
      if (!dropped && !this.kicked && !isBusy(this.state)) return;
      await new Promise((resolve) => setTimeout(resolve, dropped ? RECONNECT_DELAY_MS : 0));
    }
  }
}
