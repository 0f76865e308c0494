/**
 * The store contract: one suite per store port (src/domain/stores.ts), which every
 * implementation runs (memory for the domain's unit tests, SQLite for the server), so they cannot
 * drift apart. A new implementation can be brought up one port at a time: `ports` picks the
 * suites whose ports it has so far. Each test gets fresh, empty stores from the factory.
 *
 * Behaviour pinned here beyond the ports' doc comments (every store does it; keep it so):
 * - a patch field given as `undefined` is left untouched; `null` is written;
 * - updateKey / updateSession of an unknown id do nothing; finishTurn of an unknown turn throws;
 * - listKeys, listActiveSessions and listUnfinishedTurns are ordered by createdAt, then id;
 *   listSessions by createdAt descending, then id ascending;
 * - inserts referencing a missing key or session throw, like duplicates of a unique field.
 */
import { afterEach, beforeEach, describe } from 'vitest';
import type { Stores } from '../../src/domain/stores.js';
import { eventsContract } from './contract/events.js';
import { idempotencyContract } from './contract/idempotency.js';
import { keysContract, lifecycleContract } from './contract/keys.js';
import { managedContract } from './contract/managed.js';
import { retentionContract } from './contract/retention.js';
import { sessionsContract } from './contract/sessions.js';
import { transcriptsContract } from './contract/transcripts.js';
import { turnsContract } from './contract/turns.js';
import { usageContract } from './contract/usage.js';
import type { ContractContext, StoreFactory, StoreHandle } from './fixtures.js';

export type { StoreFactory, StoreHandle } from './fixtures.js';

export type StorePort = Exclude<keyof Stores, 'ping' | 'close'> | 'lifecycle';

/** Each suite, and the ports it needs (the ones it seeds its records through included). */
const SUITES: Array<{ ports: StorePort[]; run: (ctx: ContractContext) => void }> = [
  { ports: ['lifecycle', 'keys'], run: lifecycleContract },
  { ports: ['keys'], run: keysContract },
  { ports: ['keys', 'sessions'], run: sessionsContract },
  { ports: ['keys', 'sessions', 'turns', 'events'], run: turnsContract },
  { ports: ['keys', 'sessions', 'turns', 'events', 'idempotency'], run: idempotencyContract },
  { ports: ['keys', 'sessions', 'turns', 'events', 'usage'], run: usageContract },
  { ports: ['keys', 'sessions', 'events', 'transcripts'], run: retentionContract },
  { ports: ['keys', 'sessions', 'events'], run: eventsContract },
  { ports: ['transcripts'], run: transcriptsContract },
  { ports: ['managed'], run: managedContract },
];

export const ALL_PORTS: readonly StorePort[] = [
  'lifecycle',
  'keys',
  'sessions',
  'turns',
  'events',
  'idempotency',
  'usage',
  'transcripts',
  'managed',
];

export function describeStoreContract(
  name: string,
  makeStores: StoreFactory,
  ports: readonly StorePort[] = ALL_PORTS,
): void {
  describe(`store contract: ${name}`, () => {
    let handle: StoreHandle | undefined;

    beforeEach(async () => {
      handle = await makeStores();
    });

    afterEach(async () => {
      await handle?.cleanup();
      handle = undefined;
    });

    const ctx: ContractContext = {
      stores(): Stores {
        if (!handle) throw new Error('no store: used outside a test');
        return handle.stores;
      },
    };

    for (const suite of SUITES) {
      if (suite.ports.every((p) => ports.includes(p))) suite.run(ctx);
    }
  });
}
