/**
 * The SessionStore contract: one suite every implementation runs (memory for the domain's unit
 * tests, SQLite for the server), so the two cannot drift apart. Each test gets a fresh, empty
 * store from the factory and cleans it up after.
 *
 * Behaviour pinned here beyond the port's doc comments (both stores do it; keep it so):
 * - a patch field given as `undefined` is left untouched; `null` is written;
 * - updateKey / updateSession of an unknown id do nothing; finishTurn of an unknown turn throws;
 * - listKeys, listActiveSessions and listUnfinishedTurns are ordered by createdAt, then id;
 *   listSessions by createdAt descending, then id ascending;
 * - inserts referencing a missing key or session throw, like duplicates of a unique field.
 */
import { afterEach, beforeEach, describe } from 'vitest';
import type { SessionStore } from '../../src/domain/ports.js';
import { eventsContract } from './contract/events.js';
import { idempotencyContract } from './contract/idempotency.js';
import { keysContract, lifecycleContract } from './contract/keys.js';
import { sessionsContract } from './contract/sessions.js';
import { turnsContract } from './contract/turns.js';
import { retentionContract } from './contract/retention.js';
import { usageContract } from './contract/usage.js';
import type { ContractContext, StoreFactory, StoreHandle } from './fixtures.js';

export type { StoreFactory, StoreHandle } from './fixtures.js';

export function describeSessionStoreContract(name: string, makeStore: StoreFactory): void {
  describe(`SessionStore contract: ${name}`, () => {
    let handle: StoreHandle | undefined;

    beforeEach(async () => {
      handle = await makeStore();
    });

    afterEach(async () => {
      await handle?.cleanup();
      handle = undefined;
    });

    const ctx: ContractContext = {
      store(): SessionStore {
        if (!handle) throw new Error('no store: used outside a test');
        return handle.store;
      },
    };

    lifecycleContract(ctx);
    keysContract(ctx);
    sessionsContract(ctx);
    turnsContract(ctx);
    idempotencyContract(ctx);
    usageContract(ctx);
    retentionContract(ctx);
    eventsContract(ctx);
  });
}
