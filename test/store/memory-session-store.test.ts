/** The in-memory store runs the shared contract; it has no behaviour of its own to test. */
import { MemorySessionStore } from '../../src/adapters/memory/memory-session-store.js';
import { describeSessionStoreContract } from './session-store-contract.js';

describeSessionStoreContract('memory', async () => {
  const store = new MemorySessionStore();
  return { store, cleanup: () => store.close() };
});
