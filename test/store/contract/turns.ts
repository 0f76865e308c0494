/**
 * Contract: turns. beginTurn and finishTurn each write a turn row and an event together; the
 * tests check both halves through every reader, and that a failure of either half stores neither.
 */
import { describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../../src/domain/errors.js';
import type { TurnRecord } from '../../../src/domain/types.js';
import {
  makeCompletion,
  makeEvent,
  makeTurn,
  seedSession,
  T0,
  usage,
  type ContractContext,
} from '../fixtures.js';

type Finish = Pick<TurnRecord, 'status' | 'endedAt' | 'completion' | 'error' | 'usage' | 'costUsd'>;

function completed(turn: TurnRecord, n: number, costUsd: number): Finish {
  return {
    status: 'completed',
    endedAt: turn.createdAt + 1000,
    completion: makeCompletion(turn, { usage: usage(n), costUsd }),
    error: null,
    usage: usage(n),
    costUsd,
  };
}

const API_ERROR: ErrorBody = {
  code: 'UPSTREAM_ERROR',
  message: 'Overloaded',
  details: { status: 529, retries: [1, 2], inner: { type: 'overloaded_error' } },
};

export function turnsContract(ctx: ContractContext): void {
  describe('turns', () => {
    it('beginTurn stores the running turn and its prompt event, visible to every reader', async () => {
      await seedSession(ctx.stores());
      const turn = makeTurn('ses_1', { firstSeq: 1 });
      const prompt = makeEvent('ses_1', 1, { turnId: turn.id });
      await ctx.stores().turns.beginTurn(turn, prompt);

      expect(await ctx.stores().turns.getTurn(turn.id)).toEqual(turn);
      expect(await ctx.stores().turns.latestTurn('ses_1')).toEqual(turn);
      expect(await ctx.stores().turns.listUnfinishedTurns()).toEqual([turn]);
      expect(await ctx.stores().events.listEvents('ses_1', 0, 10)).toEqual([prompt]);
      expect(await ctx.stores().events.listMessages('ses_1', { limit: 10, offset: 0 })).toEqual({
        items: [prompt],
        total: 1,
      });
      expect(await ctx.stores().events.lastEventSeq('ses_1')).toBe(1);
      expect(await ctx.stores().turns.getTurn('turn_9')).toBeNull();
    });

    it('finishTurn writes the outcome and appends the terminal event (not a message)', async () => {
      await seedSession(ctx.stores());
      const turn = makeTurn('ses_1');
      await ctx.stores().turns.beginTurn(turn, makeEvent('ses_1', 1, { turnId: turn.id }));
      await ctx.stores().events.appendEvents([makeEvent('ses_1', 2, { turnId: turn.id })]);
      const finish = completed(turn, 7, 0.125);
      const terminal = makeEvent('ses_1', 3, { turnId: turn.id, type: 'complete', data: '{"done":true}' });
      await ctx.stores().turns.finishTurn(turn.id, finish, terminal);

      const expected: TurnRecord = { ...turn, ...finish, lastSeq: 3 };
      expect(await ctx.stores().turns.getTurn(turn.id)).toEqual(expected);
      expect(await ctx.stores().turns.latestTurn('ses_1')).toEqual(expected);
      expect(await ctx.stores().turns.listUnfinishedTurns()).toEqual([]);
      expect((await ctx.stores().events.listEvents('ses_1', 2, 10)).map((e) => e.type)).toEqual(['complete']);
      expect(await ctx.stores().events.lastEventSeq('ses_1')).toBe(3);
      const history = await ctx.stores().events.listMessages('ses_1', { limit: 10, offset: 0 });
      expect(history.items.map((e) => e.seq)).toEqual([1, 2]);
      expect(history.total).toBe(2);
    });

    it('finishTurn round-trips a failed turn: nested error body, null completion', async () => {
      await seedSession(ctx.stores());
      const turn = makeTurn('ses_1');
      await ctx.stores().turns.beginTurn(turn, makeEvent('ses_1', 1, { turnId: turn.id }));
      const finish: Finish = {
        status: 'failed',
        endedAt: T0 + 99,
        completion: null,
        error: API_ERROR,
        usage: usage(1),
        costUsd: 0.000123,
      };
      await ctx
        .stores()
        .turns.finishTurn(turn.id, finish, makeEvent('ses_1', 2, { turnId: turn.id, type: 'error' }));
      expect(await ctx.stores().turns.getTurn(turn.id)).toEqual({ ...turn, ...finish, lastSeq: 2 });
    });

    it('beginTurn is atomic: a duplicate prompt seq or turn id stores neither half', async () => {
      await seedSession(ctx.stores());
      await ctx.stores().events.appendEvents([makeEvent('ses_1', 1)]);
      const turn = makeTurn('ses_1', { id: 'turn_1', firstSeq: 1 });
      await expect(
        ctx.stores().turns.beginTurn(turn, makeEvent('ses_1', 1, { turnId: 'turn_1' })),
      ).rejects.toThrow();
      expect(await ctx.stores().turns.getTurn('turn_1')).toBeNull();
      expect(await ctx.stores().turns.latestTurn('ses_1')).toBeNull();

      await ctx
        .stores()
        .turns.beginTurn({ ...turn, firstSeq: 2 }, makeEvent('ses_1', 2, { turnId: 'turn_1' }));
      const again = makeTurn('ses_1', { id: 'turn_1', firstSeq: 3, prompt: 'again' });
      await expect(
        ctx.stores().turns.beginTurn(again, makeEvent('ses_1', 3, { turnId: 'turn_1' })),
      ).rejects.toThrow();
      expect(await ctx.stores().events.lastEventSeq('ses_1')).toBe(2);
      expect((await ctx.stores().turns.getTurn('turn_1'))?.prompt).toBe(turn.prompt);
    });

    it('listUnfinishedTurns gives each session’s turns in queue order, with their timeouts', async () => {
      await seedSession(ctx.stores(), 'ses_b');
      await seedSession(ctx.stores(), 'ses_a');
      // Same creation time, ids that sort against the queue order: only the log order counts.
      const turns = [
        makeTurn('ses_b', { id: 'turn_z', firstSeq: 1, createdAt: T0, status: 'running', timeoutMs: null }),
        makeTurn('ses_b', { id: 'turn_y', firstSeq: 2, createdAt: T0, status: 'queued', timeoutMs: 5000 }),
        makeTurn('ses_b', { id: 'turn_x', firstSeq: 3, createdAt: T0, status: 'queued', timeoutMs: 7000 }),
        makeTurn('ses_a', { id: 'turn_w', firstSeq: 1, createdAt: T0 + 1, status: 'queued' }),
      ];
      for (const turn of turns) {
        await ctx
          .stores()
          .turns.beginTurn(turn, makeEvent(turn.sessionId, turn.firstSeq, { turnId: turn.id }));
      }
      const unfinished = await ctx.stores().turns.listUnfinishedTurns();
      expect(unfinished.map((t) => [t.id, t.timeoutMs])).toEqual([
        ['turn_w', 60_000],
        ['turn_z', null],
        ['turn_y', 5000],
        ['turn_x', 7000],
      ]);
      const ofB = await ctx.stores().turns.listUnfinishedTurns('ses_b');
      expect(ofB.map((t) => t.id)).toEqual(['turn_z', 'turn_y', 'turn_x']);
      expect(await ctx.stores().turns.listUnfinishedTurns('ses_none')).toEqual([]);
    });

    it('beginTurn refuses a turn of an unknown session', async () => {
      const turn = makeTurn('ses_zz');
      await expect(ctx.stores().turns.beginTurn(turn, makeEvent('ses_zz', 1))).rejects.toThrow();
      expect(await ctx.stores().turns.getTurn(turn.id)).toBeNull();
    });

    it('finishTurn is atomic: a duplicate terminal seq leaves the turn running', async () => {
      await seedSession(ctx.stores());
      const turn = makeTurn('ses_1');
      await ctx.stores().turns.beginTurn(turn, makeEvent('ses_1', 1, { turnId: turn.id }));
      const clash = makeEvent('ses_1', 1, { turnId: turn.id, type: 'complete' });
      await expect(ctx.stores().turns.finishTurn(turn.id, completed(turn, 1, 1), clash)).rejects.toThrow();
      expect(await ctx.stores().turns.getTurn(turn.id)).toEqual(turn);
      expect(await ctx.stores().turns.listUnfinishedTurns()).toEqual([turn]);
      expect((await ctx.stores().events.listEvents('ses_1', 0, 10)).map((e) => e.type)).toEqual(['message']);
    });

    it('finishTurn of an unknown turn is refused and appends nothing', async () => {
      await seedSession(ctx.stores());
      const ghost = makeTurn('ses_1', { id: 'turn_9' });
      const terminal = makeEvent('ses_1', 1, { turnId: 'turn_9', type: 'complete' });
      await expect(
        ctx.stores().turns.finishTurn('turn_9', completed(ghost, 1, 1), terminal),
      ).rejects.toThrow();
      expect(await ctx.stores().events.lastEventSeq('ses_1')).toBe(0);
      expect(await ctx.stores().turns.getTurn('turn_9')).toBeNull();
    });

    it('latestTurn is the turn with the highest firstSeq, per session; null when none', async () => {
      await seedSession(ctx.stores(), 'ses_1');
      await seedSession(ctx.stores(), 'ses_2');
      expect(await ctx.stores().turns.latestTurn('ses_1')).toBeNull();
      // Ids and creation times deliberately disagree with firstSeq.
      await ctx
        .stores()
        .turns.beginTurn(
          makeTurn('ses_1', { id: 't_z', firstSeq: 1, createdAt: T0 + 9 }),
          makeEvent('ses_1', 1),
        );
      await ctx
        .stores()
        .turns.beginTurn(
          makeTurn('ses_1', { id: 't_a', firstSeq: 5, createdAt: T0 + 1 }),
          makeEvent('ses_1', 5),
        );
      await ctx
        .stores()
        .turns.beginTurn(makeTurn('ses_2', { id: 't_m', firstSeq: 9 }), makeEvent('ses_2', 9));
      expect((await ctx.stores().turns.latestTurn('ses_1'))?.id).toBe('t_a');
      expect((await ctx.stores().turns.latestTurn('ses_2'))?.id).toBe('t_m');
    });

    it('listUnfinishedTurns returns the running turns of every session, oldest first (queued ones too)', async () => {
      await seedSession(ctx.stores(), 'ses_1');
      await seedSession(ctx.stores(), 'ses_2');
      const a = makeTurn('ses_1', { id: 'a', firstSeq: 1, createdAt: T0 + 1 });
      const b = makeTurn('ses_1', { id: 'b', firstSeq: 2, createdAt: T0 + 2 });
      const c = makeTurn('ses_2', { id: 'c', firstSeq: 1, createdAt: T0 + 3 });
      await ctx.stores().turns.beginTurn(c, makeEvent('ses_2', 1));
      await ctx.stores().turns.beginTurn(a, makeEvent('ses_1', 1));
      await ctx.stores().turns.beginTurn(b, makeEvent('ses_1', 2));
      await ctx
        .stores()
        .turns.finishTurn('b', completed(b, 1, 0.5), makeEvent('ses_1', 3, { type: 'complete' }));
      expect(await ctx.stores().turns.listUnfinishedTurns()).toEqual([a, c]);
    });

    it('a queued turn is unfinished; startTurn makes it running and appends its prompt in one step', async () => {
      await seedSession(ctx.stores());
      const queued = makeTurn('ses_1', { id: 'q', status: 'queued', firstSeq: 1 });
      await ctx.stores().turns.beginTurn(queued, makeEvent('ses_1', 1, { turnId: 'q', type: 'status' }));
      expect(await ctx.stores().turns.listUnfinishedTurns()).toEqual([queued]);

      const prompt = makeEvent('ses_1', 2, { turnId: 'q' });
      await ctx.stores().turns.startTurn('q', prompt);
      expect((await ctx.stores().turns.getTurn('q'))?.status).toBe('running');
      expect(await ctx.stores().events.listEvents('ses_1', 1, 10)).toEqual([prompt]);

      // Only a queued turn can start; a failure stores nothing.
      await expect(
        ctx.stores().turns.startTurn('q', makeEvent('ses_1', 3, { turnId: 'q' })),
      ).rejects.toThrow();
      await expect(ctx.stores().turns.startTurn('nope', makeEvent('ses_1', 3))).rejects.toThrow();
      expect(await ctx.stores().events.lastEventSeq('ses_1')).toBe(2);
    });

    it('sessionUsage sums the usage and cost of the session’s turns only; zeros when none', async () => {
      await seedSession(ctx.stores(), 'ses_1');
      await seedSession(ctx.stores(), 'ses_2');
      expect(await ctx.stores().usage.sessionUsage('ses_1')).toEqual({ usage: usage(0), costUsd: 0 });

      const t1 = makeTurn('ses_1', { id: 't1', firstSeq: 1 });
      const t2 = makeTurn('ses_1', { id: 't2', firstSeq: 3 });
      const other = makeTurn('ses_2', { id: 't3', firstSeq: 1 });
      await ctx.stores().turns.beginTurn(t1, makeEvent('ses_1', 1));
      await ctx
        .stores()
        .turns.finishTurn('t1', completed(t1, 10, 0.25), makeEvent('ses_1', 2, { type: 'complete' }));
      await ctx.stores().turns.beginTurn(t2, makeEvent('ses_1', 3));
      await ctx
        .stores()
        .turns.finishTurn('t2', completed(t2, 5, 0.5), makeEvent('ses_1', 4, { type: 'complete' }));
      await ctx.stores().turns.beginTurn(other, makeEvent('ses_2', 1));
      await ctx
        .stores()
        .turns.finishTurn('t3', completed(other, 1000, 8), makeEvent('ses_2', 2, { type: 'complete' }));
      // A running turn counts with what it has so far (zeros at begin).
      await ctx.stores().turns.beginTurn(makeTurn('ses_1', { id: 't4', firstSeq: 5 }), makeEvent('ses_1', 5));

      expect(await ctx.stores().usage.sessionUsage('ses_1')).toEqual({ usage: usage(15), costUsd: 0.75 });
      expect(await ctx.stores().usage.sessionUsage('ses_2')).toEqual({ usage: usage(1000), costUsd: 8 });
    });

    it('keeps its own copy of a turn’s nested completion', async () => {
      await seedSession(ctx.stores());
      const turn = makeTurn('ses_1');
      await ctx.stores().turns.beginTurn(turn, makeEvent('ses_1', 1));
      const finish = completed(turn, 3, 0.5);
      await ctx.stores().turns.finishTurn(turn.id, finish, makeEvent('ses_1', 2, { type: 'complete' }));
      if (finish.completion) finish.completion.response = 'mutated';
      finish.usage.inputTokens = 999;

      const read = await ctx.stores().turns.getTurn(turn.id);
      if (read?.completion) read.completion.usage.outputTokens = -1;
      expect(await ctx.stores().turns.getTurn(turn.id)).toEqual({
        ...turn,
        ...completed(turn, 3, 0.5),
        lastSeq: 2,
      });
    });
  });
}
