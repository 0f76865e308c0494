/**
 * Contract: idempotency records. They are written only together with what their request made
 * (a session, or a turn with its prompt event), in the same transaction.
 */
import { describe, expect, it } from 'vitest';
import type { IdempotencyRecord } from '../../../src/domain/types.js';
import {
  makeEvent,
  makeKey,
  makeSession,
  makeTurn,
  seedSession,
  T0,
  type ContractContext,
} from '../fixtures.js';

function record(overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord {
  return {
    keyId: 'key_1',
    key: 'retry-me-1',
    fingerprint: 'f'.repeat(64),
    sessionId: 'ses_1',
    messageId: null,
    createdAt: T0,
    ...overrides,
  };
}

export function idempotencyContract(ctx: ContractContext): void {
  describe('idempotency', () => {
    it('is stored with the session it created, and found by key id and key', async () => {
      await ctx.stores().keys.insertKey(makeKey({ id: 'key_1' }));
      const r = record();
      await ctx.stores().sessions.insertSession(makeSession('key_1', { id: 'ses_1' }), r);
      expect(await ctx.stores().idempotency.findIdempotency('key_1', 'retry-me-1')).toEqual(r);
      expect(await ctx.stores().idempotency.findIdempotency('key_1', 'other')).toBeNull();
      expect(await ctx.stores().idempotency.findIdempotency('key_2', 'retry-me-1')).toBeNull();
    });

    it('is stored with the turn it began', async () => {
      await seedSession(ctx.stores());
      const turn = makeTurn('ses_1', { firstSeq: 1 });
      const r = record({ messageId: turn.id });
      await ctx.stores().turns.beginTurn(turn, makeEvent('ses_1', 1, { turnId: turn.id }), r);
      expect(await ctx.stores().idempotency.findIdempotency('key_1', 'retry-me-1')).toEqual(r);
    });

    it('a key used twice by one API key fails the whole write: neither the turn nor its event is stored', async () => {
      await seedSession(ctx.stores());
      const first = makeTurn('ses_1', { id: 'msg_first', firstSeq: 1 });
      await ctx
        .stores()
        .turns.beginTurn(first, makeEvent('ses_1', 1, { turnId: first.id }), record({ messageId: first.id }));
      const second = makeTurn('ses_1', { id: 'msg_second', firstSeq: 2 });
      await expect(
        ctx
          .stores()
          .turns.beginTurn(
            second,
            makeEvent('ses_1', 2, { turnId: second.id }),
            record({ messageId: second.id }),
          ),
      ).rejects.toThrow();
      expect(await ctx.stores().turns.getTurn('msg_second')).toBeNull();
      expect(await ctx.stores().events.lastEventSeq('ses_1')).toBe(1);
      expect((await ctx.stores().idempotency.findIdempotency('key_1', 'retry-me-1'))?.messageId).toBe(
        'msg_first',
      );
    });

    it('the same key under another API key is another record', async () => {
      await seedSession(ctx.stores(), 'ses_1', 'key_1');
      await seedSession(ctx.stores(), 'ses_2', 'key_2');
      const t1 = makeTurn('ses_1', { id: 'msg_1', firstSeq: 1 });
      const t2 = makeTurn('ses_2', { id: 'msg_2', firstSeq: 1 });
      await ctx
        .stores()
        .turns.beginTurn(t1, makeEvent('ses_1', 1, { turnId: 'msg_1' }), record({ messageId: 'msg_1' }));
      await ctx
        .stores()
        .turns.beginTurn(
          t2,
          makeEvent('ses_2', 1, { turnId: 'msg_2' }),
          record({ keyId: 'key_2', sessionId: 'ses_2', messageId: 'msg_2' }),
        );
      expect((await ctx.stores().idempotency.findIdempotency('key_1', 'retry-me-1'))?.messageId).toBe(
        'msg_1',
      );
      expect((await ctx.stores().idempotency.findIdempotency('key_2', 'retry-me-1'))?.messageId).toBe(
        'msg_2',
      );
    });

    it('purge removes the records made before a time and says how many', async () => {
      await ctx.stores().keys.insertKey(makeKey({ id: 'key_1' }));
      await ctx
        .stores()
        .sessions.insertSession(makeSession('key_1', { id: 'ses_1' }), record({ key: 'old', createdAt: T0 }));
      await ctx
        .stores()
        .sessions.insertSession(
          makeSession('key_1', { id: 'ses_2' }),
          record({ key: 'new', sessionId: 'ses_2', createdAt: T0 + 10 }),
        );
      expect(await ctx.stores().idempotency.purgeIdempotency(T0 + 5)).toBe(1);
      expect(await ctx.stores().idempotency.findIdempotency('key_1', 'old')).toBeNull();
      expect(await ctx.stores().idempotency.findIdempotency('key_1', 'new')).not.toBeNull();
    });
  });
}
