/**
 * Contract: keyUsage, the per-session sums of one key's turns since a time (budgets, /usage).
 */
import { describe, expect, it } from 'vitest';
import { makeEvent, makeTurn, seedSession, T0, usage, type ContractContext } from '../fixtures.js';

export function usageContract(ctx: ContractContext): void {
  describe('keyUsage', () => {
    async function finishedTurn(
      sessionId: string,
      id: string,
      seq: number,
      createdAt: number,
      n: number,
      costUsd: number,
    ) {
      const turn = makeTurn(sessionId, { id, firstSeq: seq, createdAt });
      await ctx.stores().turns.beginTurn(turn, makeEvent(sessionId, seq, { turnId: id }));
      await ctx.stores().turns.finishTurn(
        id,
        {
          status: 'completed',
          endedAt: createdAt + 10,
          completion: null,
          error: null,
          usage: usage(n),
          costUsd,
        },
        makeEvent(sessionId, seq + 1, { turnId: id, type: 'complete' }),
      );
    }

    it('sums per session of the key the turns made since the time, leaving others out', async () => {
      await seedSession(ctx.stores(), 'ses_a', 'key_1');
      await seedSession(ctx.stores(), 'ses_b', 'key_1');
      await seedSession(ctx.stores(), 'ses_x', 'key_2');
      await finishedTurn('ses_a', 'msg_old', 1, T0 - 1, 1, 0.5);
      await finishedTurn('ses_a', 'msg_a1', 3, T0, 1, 0.25);
      await finishedTurn('ses_a', 'msg_a2', 5, T0 + 5, 2, 0.125);
      await finishedTurn('ses_b', 'msg_b1', 1, T0 + 7, 3, 1);
      await finishedTurn('ses_x', 'msg_x1', 1, T0 + 9, 4, 8);

      const rows = await ctx.stores().usage.keyUsage('key_1', T0);
      expect(rows).toEqual([
        {
          sessionId: 'ses_a',
          turns: 2,
          usage: {
            inputTokens: usage(1).inputTokens + usage(2).inputTokens,
            outputTokens: usage(1).outputTokens + usage(2).outputTokens,
            cacheCreationInputTokens: usage(1).cacheCreationInputTokens + usage(2).cacheCreationInputTokens,
            cacheReadInputTokens: usage(1).cacheReadInputTokens + usage(2).cacheReadInputTokens,
          },
          costUsd: 0.375,
        },
        { sessionId: 'ses_b', turns: 1, usage: usage(3), costUsd: 1 },
      ]);
      expect(await ctx.stores().usage.keyUsage('key_2', T0)).toEqual([
        { sessionId: 'ses_x', turns: 1, usage: usage(4), costUsd: 8 },
      ]);
      expect(await ctx.stores().usage.keyUsage('key_1', T0 + 100)).toEqual([]);
    });
  });
}
