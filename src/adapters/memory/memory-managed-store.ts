/** The Managed Agents records (ManagedObjectStore) in memory, for the domain's unit tests. */
import type { ManagedObjectKind, ManagedObjectRecord, ManagedObjectStore } from '../../domain/stores.js';
import type { Page } from '../../domain/types.js';

const keyOf = (kind: ManagedObjectKind, id: string): string => `${kind}\u0000${id}`;

export class MemoryManagedStore implements ManagedObjectStore {
  /** Versions of each object, ascending. */
  private readonly objects = new Map<string, ManagedObjectRecord[]>();

  async putObject(record: ManagedObjectRecord): Promise<void> {
    const versions = this.objects.get(keyOf(record.kind, record.id)) ?? [];
    const kept = versions.filter((v) => v.version !== record.version);
    kept.push({ ...record });
    kept.sort((a, b) => a.version - b.version);
    this.objects.set(keyOf(record.kind, record.id), kept);
  }

  async getObject(
    kind: ManagedObjectKind,
    id: string,
    version?: number,
  ): Promise<ManagedObjectRecord | null> {
    const versions = this.objects.get(keyOf(kind, id)) ?? [];
    const found = version === undefined ? versions.at(-1) : versions.find((v) => v.version === version);
    return found ? { ...found } : null;
  }

  async listObjects(
    kind: ManagedObjectKind,
    keyId: string,
    page: { limit: number; offset: number; includeArchived: boolean },
  ): Promise<Page<ManagedObjectRecord>> {
    const latest = [...this.objects.values()]
      .map((versions) => versions.at(-1) as ManagedObjectRecord)
      .filter((r) => r.kind === kind && r.keyId === keyId && (page.includeArchived || r.archivedAt === null))
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return {
      total: latest.length,
      items: latest.slice(page.offset, page.offset + page.limit).map((r) => ({ ...r })),
    };
  }

  async listVersions(kind: ManagedObjectKind, id: string): Promise<ManagedObjectRecord[]> {
    return [...(this.objects.get(keyOf(kind, id)) ?? [])].reverse().map((r) => ({ ...r }));
  }

  async deleteObject(kind: ManagedObjectKind, id: string): Promise<void> {
    this.objects.delete(keyOf(kind, id));
  }
}
