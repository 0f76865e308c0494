/** ManagedObjectStore: the Managed Agents API's records (agents with versions, environments, …). */
import { expect, it } from 'vitest';
import type { ManagedObjectRecord } from '../../../src/domain/stores.js';
import type { ContractContext } from '../fixtures.js';

function record(over: Partial<ManagedObjectRecord> = {}): ManagedObjectRecord {
  return {
    kind: 'agent',
    id: 'agent_1',
    version: 1,
    keyId: 'key_a',
    data: JSON.stringify({ name: 'one' }),
    createdAt: 1000,
    updatedAt: 1000,
    archivedAt: null,
    ...over,
  };
}

export function managedContract(ctx: ContractContext): void {
  it('managed: keeps every version and gives the latest by default, a given one on request', async () => {
    const store = ctx.stores().managed;
    await store.putObject(record());
    await store.putObject(record({ version: 2, data: '{"name":"two"}', updatedAt: 2000 }));
    expect((await store.getObject('agent', 'agent_1'))?.data).toBe('{"name":"two"}');
    expect((await store.getObject('agent', 'agent_1', 1))?.data).toBe('{"name":"one"}');
    expect(await store.getObject('agent', 'agent_1', 3)).toBeNull();
    expect(await store.getObject('environment', 'agent_1')).toBeNull();
    expect((await store.listVersions('agent', 'agent_1')).map((r) => r.version)).toEqual([2, 1]);
  });

  it('managed: a put of the same version replaces it (an archive, an environment update)', async () => {
    const store = ctx.stores().managed;
    await store.putObject(record({ kind: 'environment', id: 'env_1' }));
    await store.putObject(record({ kind: 'environment', id: 'env_1', archivedAt: 5000, updatedAt: 5000 }));
    const got = await store.getObject('environment', 'env_1');
    expect(got).toEqual(record({ kind: 'environment', id: 'env_1', archivedAt: 5000, updatedAt: 5000 }));
    expect(await store.listVersions('environment', 'env_1')).toHaveLength(1);
  });

  it("managed: lists the latest version of one key's objects, oldest first, archived on request", async () => {
    const store = ctx.stores().managed;
    await store.putObject(record({ id: 'agent_b', createdAt: 2000 }));
    await store.putObject(record({ id: 'agent_a', createdAt: 1000 }));
    await store.putObject(record({ id: 'agent_a', version: 2, createdAt: 1000, data: '{"v":2}' }));
    await store.putObject(record({ id: 'agent_c', createdAt: 3000, archivedAt: 4000 }));
    await store.putObject(record({ id: 'agent_other', keyId: 'key_b' }));
    await store.putObject(record({ kind: 'file', id: 'file_1' }));

    const page = await store.listObjects('agent', 'key_a', { limit: 10, offset: 0, includeArchived: false });
    expect(page.total).toBe(2);
    expect(page.items.map((r) => [r.id, r.version])).toEqual([
      ['agent_a', 2],
      ['agent_b', 1],
    ]);
    const all = await store.listObjects('agent', 'key_a', { limit: 1, offset: 2, includeArchived: true });
    expect(all.total).toBe(3);
    expect(all.items.map((r) => r.id)).toEqual(['agent_c']);
  });

  it('managed: delete removes every version; an unknown id is a no-op', async () => {
    const store = ctx.stores().managed;
    await store.putObject(record());
    await store.putObject(record({ version: 2 }));
    await store.deleteObject('agent', 'agent_1');
    await store.deleteObject('agent', 'nothing');
    expect(await store.getObject('agent', 'agent_1')).toBeNull();
    expect(await store.listVersions('agent', 'agent_1')).toEqual([]);
  });
}
