/** What a key has spent: the figure its daily budget is checked against and GET /usage shows. */
import type { UsageStore } from './stores.js';

/** USD spent by a key's finished turns since `since` (Claude Code's own cost figures), unrounded. */
export async function spentSince(store: UsageStore, keyId: string, since: number): Promise<number> {
  return (await store.keyUsage(keyId, since)).reduce((sum, s) => sum + s.costUsd, 0);
}
