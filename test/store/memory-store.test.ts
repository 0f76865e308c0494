/** The in-memory stores run the shared contract; they have no behaviour of their own to test. */
import { memoryStores } from '../../src/adapters/memory/memory-store.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('memory', async () => {
  const stores = memoryStores();
  return { stores, cleanup: () => stores.close() };
});
