/**
 * The PostgreSQL store: the shared contract against a real server (its tests in one schema of
 * this file's own database, emptied before each), then what only a database that several instances share must get
 * right: migrations by two instances at once, and event numbers under concurrent writers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, PostgresOwnership, type PostgresDatabase } from '../../src/adapters/postgres/index.js';
import { EventSeqTaken } from '../../src/domain/stores.js';
import { startPostgres, type TestPostgres } from '../helpers/services.js';
import { makeEvent, makeTurn, seedSession } from './fixtures.js';
import { describeStoreContract } from './store-contract.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.close();
});

/**
 * The contract's tests share one schema, migrated once and emptied before each test: a fresh
 * schema per test spent most of this file's time in migrations (about 0.15 s a test).
 */
let contractUrl: string | null = null;
describeStoreContract('postgres', async () => {
  contractUrl ??= await server.freshSchemaUrl();
  const db = await openPostgres(contractUrl, { poolSize: 4 });
  const { rows } = await db.pool.query<{ name: string }>(
    // Newest first: a table that references another was made after it.
    `SELECT quote_ident(relname) AS name FROM pg_class
      WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r' AND relname <> 'schema_migrations'
      ORDER BY oid DESC`,
  );
  // DELETE rather than TRUNCATE: on tables this small it is several times faster.
  await db.pool.query(rows.map((r) => `DELETE FROM ${r.name};`).join(' '));
  return { stores: db.stores, cleanup: () => db.stores.close() };
});

describe('PostgreSQL shared by several instances', () => {
  const open = async (url: string): Promise<PostgresDatabase> => openPostgres(url, { poolSize: 4 });

  it('two instances starting at once on an empty database both open it; one migrates', async () => {
    const url = await server.freshSchemaUrl();
    const [a, b] = await Promise.all([open(url), open(url)]);
    try {
      const { rows } = await a.pool.query<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY version',
      );
      expect(rows.map((r) => r.version)).toEqual([1, 2, 3]);
      await seedSession(a.stores);
      expect(await b.stores.sessions.getSession('ses_1')).not.toBeNull();
    } finally {
      await a.stores.close();
      await b.stores.close();
    }
  });

  it('refuses a database newer than this code', async () => {
    const url = await server.freshSchemaUrl();
    const a = await open(url);
    await a.pool.query('INSERT INTO schema_migrations (version) VALUES (99)');
    await a.stores.close();
    await expect(open(url)).rejects.toThrow(/schema version 99 is newer/);
  });

  it('says which database it could not reach, without the password', async () => {
    const error = await openPostgres('postgres://someone:s3cret@127.0.0.1:1/nowhere').catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /^Cannot use the database postgres:\/\/someone:\*\*\*@127\.0\.0\.1:1\/nowhere: /,
    );
    expect((error as Error).message).not.toContain('s3cret');
  });

  it('a turn with a NUL character in its prompt round-trips', async () => {
    const a = await open(await server.freshSchemaUrl());
    try {
      await seedSession(a.stores);
      const turn = makeTurn('ses_1', { prompt: 'a\u0000b \ud800 ünï' });
      await a.stores.turns.beginTurn(turn, makeEvent('ses_1', 1, { turnId: turn.id }));
      expect((await a.stores.turns.getTurn(turn.id))?.prompt).toBe('a\u0000b \ud800 ünï');
    } finally {
      await a.stores.close();
    }
  });

  it('an event numbered from a stale head is refused, even where retention pruned the log', async () => {
    const a = await open(await server.freshSchemaUrl());
    try {
      await seedSession(a.stores);
      await a.stores.events.appendEvents([
        makeEvent('ses_1', 1, { type: 'status', createdAt: 1 }),
        makeEvent('ses_1', 2, { type: 'status', createdAt: 2 }),
        makeEvent('ses_1', 3, { createdAt: 3 }),
      ]);
      await a.stores.events.pruneEvents('ses_1', 10);
      // Seq 2 is no longer stored, but was given out: a writer whose head is stale cannot reuse it.
      const refused = await a.stores.events.appendEvents([makeEvent('ses_1', 2)]).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(EventSeqTaken);
      expect(refused).toMatchObject({ sessionId: 'ses_1', seq: 2 });
      // And a turn's write that carries a taken seq stores nothing of the turn either.
      const turn = makeTurn('ses_1', { firstSeq: 3 });
      await expect(
        a.stores.turns.beginTurn(turn, makeEvent('ses_1', 3, { turnId: turn.id })),
      ).rejects.toBeInstanceOf(EventSeqTaken);
      expect(await a.stores.turns.getTurn(turn.id)).toBeNull();
      expect(await a.stores.events.lastEventSeq('ses_1')).toBe(3);
    } finally {
      await a.stores.close();
    }
  });

  it('writers on two pools racing for the same numbers: each number is stored once, the log has no gap', async () => {
    const url = await server.freshSchemaUrl();
    const [a, b] = await Promise.all([open(url), open(url)]);
    try {
      await seedSession(a.stores);
      // Each writer numbers from what it last read, as two instances' EventLogs would, and
      // renumbers when refused.
      const write = async (db: PostgresDatabase, label: string, n: number): Promise<number> => {
        let refusals = 0;
        for (let i = 0; i < n; i++) {
          for (;;) {
            const seq = (await db.stores.events.lastEventSeq('ses_1')) + 1;
            try {
              await db.stores.events.appendEvents([makeEvent('ses_1', seq, { data: `"${label}${i}"` })]);
              break;
            } catch (err) {
              if (!(err instanceof EventSeqTaken)) throw err;
              refusals++;
            }
          }
        }
        return refusals;
      };
      const refusals = await Promise.all([write(a, 'a', 40), write(b, 'b', 40), write(a, 'c', 40)]);
      const events = await a.stores.events.listEvents('ses_1', 0, 1000);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      expect(new Set(events.map((e) => e.data)).size).toBe(120);
      // The race did happen (otherwise this test would prove nothing).
      expect(refusals.reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
    } finally {
      await a.stores.close();
      await b.stores.close();
    }
  });
});

describe('PostgresOwnership: the instances’ leases and the sessions’ owners', () => {
  it('a session is its claimer’s while its lease lives; then exactly one of several claimers takes it over', async () => {
    const db = await openPostgres(await server.freshSchemaUrl(), { poolSize: 8 });
    const ownership = new PostgresOwnership(db.pool);
    try {
      await seedSession(db.stores);
      const a = { id: 'inst_a', url: 'http://a:1' };
      const b = { id: 'inst_b', url: 'http://b:1' };
      await ownership.register(a, 60_000, 'mark-a');
      await ownership.register(b, 60_000, 'mark-b');
      expect(await ownership.orphans(10)).toEqual(['ses_1']);
      expect(await ownership.claim('ses_1', a.id)).toEqual({ kind: 'mine', takenOver: true });
      expect(await ownership.claim('ses_1', a.id)).toEqual({ kind: 'mine', takenOver: false });
      expect(await ownership.claim('ses_1', b.id)).toEqual({ kind: 'elsewhere', owner: a });
      expect(await ownership.orphans(10)).toEqual([]);
      expect(await ownership.liveInstances(b.id)).toEqual([{ ...a, volumeMark: 'mark-a' }]);

      // A's lease runs out: it cannot renew, its session is an orphan, and of five instances
      // claiming it at once exactly one gets it.
      await db.pool.query(`UPDATE instances SET expires_at = now() - interval '1 second' WHERE id = $1`, [
        a.id,
      ]);
      expect(await ownership.renew(a.id, 60_000)).toBe(false);
      expect(await ownership.renew(b.id, 60_000)).toBe(true);
      expect(await ownership.orphans(10)).toEqual(['ses_1']);
      const claimers = ['inst_c', 'inst_d', 'inst_e', 'inst_f', b.id];
      for (const id of claimers.slice(0, 4))
        await ownership.register({ id, url: `http://${id}:1` }, 60_000, id);
      const claims = await Promise.all(claimers.map((id) => ownership.claim('ses_1', id)));
      expect(claims.filter((c) => c.kind === 'mine')).toEqual([{ kind: 'mine', takenOver: true }]);
      const winner = claimers[claims.findIndex((c) => c.kind === 'mine')];
      expect(
        new Set(
          claims.filter((c) => c.kind === 'elsewhere').map((c) => c.kind === 'elsewhere' && c.owner.id),
        ),
      ).toEqual(new Set([winner]));

      // A clean leave gives the sessions up at once.
      await ownership.leave(winner ?? '');
      expect(await ownership.orphans(10)).toEqual(['ses_1']);
    } finally {
      await db.stores.close();
    }
  });
});
