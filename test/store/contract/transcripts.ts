/**
 * Contract: Claude Code's transcripts (the SDK's `sessionStore` shape). Entries come back as
 * they went in, in order, per (project, session, subpath); a retried batch (same uuids) is not
 * stored twice; `has` tells whether a new process should resume the session.
 */
import { describe, expect, it } from 'vitest';
import type { TranscriptEntry } from '../../../src/domain/stores.js';
import type { ContractContext } from '../fixtures.js';

const main = { projectKey: '-work-ws-ses_1', sessionId: 'cs-1' };

function entry(uuid: string, extra: Record<string, unknown> = {}): TranscriptEntry {
  return {
    type: 'user',
    uuid,
    message: { role: 'user', content: [{ type: 'text', text: `ünï ${uuid}` }] },
    ...extra,
  };
}

export function transcriptsContract(ctx: ContractContext): void {
  describe('transcripts', () => {
    it('load returns null for an unknown key, and what was appended, in order, deep-equal', async () => {
      const t = ctx.stores().transcripts;
      expect(await t.load(main)).toBeNull();
      await t.append(main, [entry('u1'), { type: 'cost-state', total: 0.25 }]);
      await t.append(main, [entry('u2', { parentUuid: 'u1' })]);
      expect(await t.load(main)).toEqual([
        entry('u1'),
        { type: 'cost-state', total: 0.25 },
        entry('u2', { parentUuid: 'u1' }),
      ]);
    });

    it('a batch retried with the same uuids is stored once', async () => {
      const t = ctx.stores().transcripts;
      await t.append(main, [entry('u1'), entry('u2')]);
      await t.append(main, [entry('u1'), entry('u2')]);
      expect((await t.load(main))?.map((e) => e.uuid)).toEqual(['u1', 'u2']);
    });

    it('keeps subagent transcripts (subpath) apart, lists sessions and subkeys, deletes one key', async () => {
      const t = ctx.stores().transcripts;
      const sub = { ...main, subpath: 'subagents/agent-1' };
      await t.append(main, [entry('m1')]);
      await t.append(sub, [entry('s1')]);
      await t.append({ projectKey: main.projectKey, sessionId: 'cs-2' }, [entry('o1')]);
      await t.append({ projectKey: 'elsewhere', sessionId: 'cs-3' }, [entry('x1')]);
      expect((await t.load(sub))?.map((e) => e.uuid)).toEqual(['s1']);
      expect((await t.listSessions(main.projectKey)).map((s) => s.sessionId).sort()).toEqual([
        'cs-1',
        'cs-2',
      ]);
      expect(await t.listSubkeys(main)).toEqual(['subagents/agent-1']);
      await t.delete(sub);
      expect(await t.load(sub)).toBeNull();
      expect((await t.load(main))?.map((e) => e.uuid)).toEqual(['m1']);
    });

    it('has: whether anything of a Claude Code session is stored, under any project', async () => {
      const t = ctx.stores().transcripts;
      expect(await t.has('cs-1')).toBe(false);
      await t.append(main, [entry('u1')]);
      expect(await t.has('cs-1')).toBe(true);
      expect(await t.has('cs-2')).toBe(false);
    });
  });
}
