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
/**
 * How often an idle session looks for turns started elsewhere (another tab, another client): a
 * `GET …/stream` after the last event seen, a 204 that spends nothing while nothing happened.
 */
const IDLE_POLL_MS = 2000;

export class SessionFeed {
  state: Transcript = emptyTranscript();
  private listeners = new Set<(t: Transcript) => void>();
  private abort = new AbortController();
  private following = false;
  /** A turn was sent since the current stream opened: follow again even if it ends idle. */
  private kicked = false;
  /** Where the first stream starts, before any event is applied (then the last event seen). */
  private replayFrom: number | null = null;
  private wake: (() => void) | null = null;

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
    if (!firstReplayed) return this.follow();
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
    const accepted = await this.api.json<{ messageId: string; queued?: boolean; position?: number }>(
      'POST',
      `/sessions/${encodeURIComponent(this.sessionId)}/messages`,
      {
        prompt,
        stream: true,
        queue: true,
      },
    );
    this.dispatch({ event: 'sent', data: { ...accepted, prompt } });
    this.kick();
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

  /**
   * Puts the workspace and/or the conversation back to before the turn `messageId`. The screen
   * changes when the stored `rewound` event arrives through the stream, as in every other tab.
   */
  async rewind(messageId: string, what: { files: boolean; conversation: boolean }): Promise<void> {
    await this.api.json('POST', `/sessions/${encodeURIComponent(this.sessionId)}/rewind`, {
      messageId,
      ...what,
    });
    this.kick();
  }

  /** A new session from after the turn `messageId` (its files and conversation); answers its id. */
  async fork(messageId: string): Promise<string> {
    const created = await this.api.json<{ sessionId: string }>(
      'POST',
      `/sessions/${encodeURIComponent(this.sessionId)}/fork`,
      { messageId },
    );
    return created.sessionId;
  }

  /** Reads the stream from the last event seen, for as long as the session is open. */
  private follow(): void {
    if (this.following) return;
    this.following = true;
    void this.followLoop().finally(() => (this.following = false));
  }

  /** Something was sent from this tab: look at the stream now rather than at the next poll. */
  private kick(): void {
    this.kicked = true;
    this.wake?.();
    this.follow();
  }

  /** Waits `ms`, or less when kicked or closed. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
      this.abort.signal.addEventListener('abort', done, { once: true });
    });
  }

  private async followLoop(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      this.kicked = false;
      let dropped = false;
      try {
        const after = Math.max(this.replayFrom ?? 0, this.state.lastEventId);
        const res = await this.api.stream(this.sessionId, after, signal);
        // The server answered: whatever it says, the connection is back.
        if (this.state.notice?.code === 'DISCONNECTED') this.dispatch({ event: 'reconnected', data: {} });
        if (res.status === 204) {
          // Nothing new. Another tab (or client) may start a turn: look again in a moment.
          if (!this.kicked) await this.pause(IDLE_POLL_MS);
          continue;
        }
        if (!res.ok || !res.body) {
          const err = await errorFrom(res);
          this.dispatch({ event: 'error', data: { code: err.code, message: describeError(err) } });
          if (err.status === 404) return; // the session was ended (elsewhere)
          // A rate limit or a dropped key: try again later rather than hammer the server.
          await this.pause(Math.max(IDLE_POLL_MS, (err.retryAfterSeconds ?? 0) * 1000));
          continue;
        }
        await readEvents(res.body, (event) => this.dispatch(event));
      } catch (err) {
        if (signal.aborted) return;
        dropped = true;
        this.dispatch({ event: 'error', data: { code: 'DISCONNECTED', message: describeError(err) } });
      }
      if (dropped) await this.pause(RECONNECT_DELAY_MS);
      else if (!this.kicked && !isBusy(this.state)) await this.pause(IDLE_POLL_MS);
    }
  }
}
