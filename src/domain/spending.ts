/** What a key has spent: the figure its daily budget is checked against and GET /usage shows. */
import type { SessionStore } from './ports.js';

/** USD spent by a key's finished turns since `since` (Claude Code's own cost figures), unrounded. */
export async function spentSince(store: SessionStore, keyId: string, since: number): Promise<number> {
  return (await store.keyUsage(keyId, since)).reduce((sum, s) => sum + s.costUsd, 0);
}
