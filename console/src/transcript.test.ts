/**
 * The console's one event-to-screen module: a replay equals the live run, a repeated event adds
 * nothing, and each event type lands where the screen shows it.
 */
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from './sse.js';
import { applyEvent, emptyTranscript, isBusy, type Transcript } from './transcript.js';

const S = 'sess_1';
const M = 'msg_1';
const at = '2026-11-24T04:10:22.000Z';

const message = (id: number, fields: Record<string, unknown>): StreamEvent => ({
  id,
  event: 'message',
  data: { sessionId: S, turnId: M, sequence: id, timestamp: at, ...fields },
});

/** One turn as the server streams it: text, a tool call asked about and allowed, its result. */
const TURN: StreamEvent[] = [
  message(1, { source: 'client', role: 'user', summary: [{ type: 'text', text: 'Count files' }] }),
  { id: 2, event: 'status', data: { sessionId: S, messageId: M, status: 'running', at } },
  { event: 'delta', data: { sessionId: S, messageId: M, kind: 'text', index: 0, text: 'I will ' } },
  { event: 'delta', data: { sessionId: S, messageId: M, kind: 'text', index: 0, text: 'run it.' } },
  message(3, {
    source: 'claude_code',
    role: 'assistant',
    summary: [{ type: 'text', text: 'I will run it.' }],
  }),
  message(4, {
    source: 'claude_code',
    role: 'assistant',
    summary: [{ type: 'tool_use', toolUseId: 'toolu_1', name: 'Bash', input: { command: 'ls | wc -l' } }],
  }),
  {
    id: 5,
    event: 'status',
    data: { sessionId: S, messageId: M, status: 'waiting_for_permission', toolName: 'Bash', at },
  },
  {
    id: 6,
    event: 'permission_request',
    data: {
      requestId: 'perm_1',
      sessionId: S,
      messageId: M,
      toolName: 'Bash',
      toolUseId: 'toolu_1',
      input: {},
    },
  },
  {
    id: 7,
    event: 'permission_resolved',
    data: {
      requestId: 'perm_1',
      sessionId: S,
      messageId: M,
      toolName: 'Bash',
      decision: 'allow',
      by: 'client',
    },
  },
  message(8, {
    source: 'claude_code',
    role: 'user',
    summary: [{ type: 'tool_result', toolUseId: 'toolu_1', name: 'Bash', isError: false, content: '3' }],
  }),
  { id: 9, event: 'status', data: { sessionId: S, messageId: M, status: 'idle', at } },
  {
    id: 10,
    event: 'complete',
    data: {
      messageId: M,
      sessionId: S,
      status: 'completed',
      costUsd: 0.05,
      usage: { inputTokens: 10, outputTokens: 2 },
    },
  },
];

const run = (events: StreamEvent[], from: Transcript = emptyTranscript()) => events.reduce(applyEvent, from);

describe('transcript', () => {
  it('draws a turn: prompt, text, the tool card with its decision and result, the end', () => {
    const t = run(TURN);
    expect(t.turns).toHaveLength(1);
    const turn = t.turns[0]!;
    expect(turn).toMatchObject({
      prompt: 'Count files',
      status: 'completed',
      live: { text: '', thinking: '' },
    });
    expect(turn.parts).toEqual([
      { kind: 'text', text: 'I will run it.' },
      { kind: 'tool', toolUseId: 'toolu_1' },
      { kind: 'note', text: 'Bash: allowed (by client)' },
    ]);
    expect(t.tools.toolu_1).toMatchObject({
      name: 'Bash',
      result: '3',
      isError: false,
      decision: { decision: 'allow' },
    });
    expect(turn.completion?.costUsd).toBe(0.05);
    expect(t.pending).toEqual([]);
    expect(t.lastEventId).toBe(10);
    expect(isBusy(t)).toBe(false);
  });

  it('shows text as the deltas write it, until its message replaces it', () => {
    const t = run(TURN.slice(0, 4));
    expect(t.turns[0]!.live.text).toBe('I will run it.');
    expect(t.turns[0]!.parts).toEqual([]);
    expect(isBusy(t)).toBe(true);
  });

  it('holds an open approval until it is resolved', () => {
    const t = run(TURN.slice(0, 8));
    expect(t.pending.map((p) => p.requestId)).toEqual(['perm_1']);
    expect(t.turns[0]!.status).toBe('waiting');
  });

  it('a replay after a reconnect (overlapping events, no deltas) draws the same as the live run', () => {
    const live = run(TURN);
    const cutAt = 6; // a reconnect after event 5 replays 6… and, by mistake, 3… again
    const beforeDrop = run(TURN.slice(0, cutAt));
    const stored = TURN.filter((e) => e.id !== undefined);
    const resumed = run(stored, beforeDrop);
    expect(resumed).toEqual(live);
    // And a reload that replays the whole log from nothing.
    expect(run(stored)).toEqual(live);
  });

  it('puts a stored error on the running turn and a stream-level one in the notice', () => {
    const failed = run([
      ...TURN.slice(0, 2),
      { id: 3, event: 'error', data: { code: 'UPSTREAM_UNAVAILABLE', message: 'overloaded' } },
    ]);
    expect(failed.turns[0]).toMatchObject({ status: 'failed', error: { code: 'UPSTREAM_UNAVAILABLE' } });
    const limited = run([
      ...TURN.slice(0, 2),
      { event: 'error', data: { code: 'RATE_LIMIT_EXCEEDED', message: 'later' } },
    ]);
    expect(limited.turns[0]!.status).toBe('running');
    expect(limited.notice?.code).toBe('RATE_LIMIT_EXCEEDED');
  });

  it('ends a turn from the history by its result message, and a live one only by its end event', () => {
    const result = {
      source: 'claude_code',
      role: 'system',
      type: 'result',
      content: { total_cost_usd: 0.04, usage: { input_tokens: 7, output_tokens: 1 } },
      summary: [{ type: 'result', subtype: 'success', isError: false, numTurns: 1, durationMs: 90 }],
    };
    const fromHistory = run([
      { ...TURN[0]!, event: 'history' },
      { ...message(2, result), event: 'history' },
    ]);
    expect(fromHistory.turns[0]).toMatchObject({ status: 'completed', completion: { costUsd: 0.04 } });
    const live = run([...TURN.slice(0, 2), message(3, result)]);
    expect(live.turns[0]!.status).toBe('running');
    const failed = run([
      ...TURN.slice(0, 2),
      message(3, result),
      { id: 4, event: 'error', data: { code: 'UPSTREAM_UNAVAILABLE', message: 'overloaded' } },
    ]);
    expect(failed.turns[0]).toMatchObject({ status: 'failed', error: { code: 'UPSTREAM_UNAVAILABLE' } });
  });

  it('shows a queued turn with its place, and ignores event names it does not know', () => {
    const t = run([
      {
        id: 1,
        event: 'status',
        data: { sessionId: S, messageId: 'msg_2', status: 'queued', position: 1, at },
      },
      { id: 2, event: 'something_new', data: {} },
    ]);
    expect(t.turns[0]).toMatchObject({ messageId: 'msg_2', status: 'queued', position: 1 });
    expect(t.lastEventId).toBe(2);
  });

  it('keeps what a turn changed (files_changed, then complete) and moves the files revision', () => {
    const files = [{ path: 'a.txt', status: 'added', additions: 1, deletions: 0, binary: false }];
    const end = TURN.at(-1)!;
    const t = run([
      ...TURN.slice(0, -1),
      { id: 10, event: 'files_changed', data: { sessionId: S, messageId: M, checkpoint: 'c1', files } },
      { ...end, id: 11, data: { ...(end.data as object), changes: files } },
    ]);
    expect(t.turns[0]!.changes).toEqual(files);
    expect(t.filesRevision).toBe(10);
    // A turn that changed nothing: no files_changed, `changes: []`, the revision stays.
    const quiet = run([...TURN.slice(0, -1), { ...end, data: { ...(end.data as object), changes: [] } }]);
    expect(quiet.turns[0]!.changes).toEqual([]);
    expect(quiet.filesRevision).toBe(0);
  });

  it('marks rewound turns from the rewound event and from the history alike', () => {
    const second = TURN.map((e) =>
      e.id === undefined
        ? e
        : {
            ...e,
            id: e.id + 10,
            data: { ...(e.data as object), turnId: 'msg_2', messageId: 'msg_2', sequence: e.id + 10 },
          },
    );
    const rewound = {
      id: 21,
      event: 'rewound',
      data: {
        sessionId: S,
        messageId: 'msg_2',
        files: true,
        conversation: true,
        rewoundMessageIds: ['msg_2'],
      },
    };
    const live = run([...TURN, ...second, rewound]);
    expect(live.turns.map((turn) => [turn.messageId, turn.rewound === true])).toEqual([
      [M, false],
      ['msg_2', true],
    ]);
    expect(live.filesRevision).toBe(21);
    // From the history (`rewound: true` on its messages), without the event.
    const fromHistory = run(
      [...TURN, ...second]
        .filter((e) => e.event === 'message')
        .map((e) => {
          const item = e.data as { turnId: string };
          return {
            ...e,
            event: 'history',
            data: item.turnId === 'msg_2' ? { ...item, rewound: true } : item,
          };
        }),
    );
    expect(fromHistory.turns.map((turn) => turn.rewound === true)).toEqual([false, true]);
    // A rewind of the conversation alone leaves the files, and the tree, as they are.
    const talkOnly = run([...TURN, ...second, { ...rewound, data: { ...rewound.data, files: false } }]);
    expect(talkOnly.filesRevision).toBe(0);
  });
});
