/**
 * The Managed Agents records of one kind, as one key sees them: another key's object is not
 * found (never forbidden), ids are made here, pages are offsets behind an opaque token.
 */
import { invalidField, managedObjectNotFound } from '../error-situations.js';
import { randomBase62 } from '../ids.js';
import type { Clock } from '../ports.js';
import type { ManagedObjectKind, ManagedObjectRecord, ManagedObjectStore } from '../stores.js';
import type { ApiKeyRecord } from '../types.js';

export interface PageRequest {
  limit: number;
  /** The token of a previous page's `next_page`; absent: the first page. */
  page?: string | null;
  includeArchived?: boolean;
}

/** A page as the SDK's PageCursor reads it. */
export interface PageOf<T> {
  data: T[];
  next_page: string | null;
  prev_page: string | null;
}

const PAGE_TOKEN = /^page_(\d{1,9})$/;

export function offsetOf(page: string | null | undefined): number {
  if (page === undefined || page === null || page === '') return 0;
  const match = PAGE_TOKEN.exec(page);
  if (!match) throw invalidField('The page token is not one this server gave out.', 'page', 'unknown token');
  return Number(match[1]);
}

/** The page after `offset + count` items out of `total`, and the one before. */
export function pageTokens(
  offset: number,
  count: number,
  limit: number,
  total: number,
): { next_page: string | null; prev_page: string | null } {
  return {
    next_page: offset + count < total ? `page_${offset + count}` : null,
    prev_page: offset > 0 ? `page_${Math.max(0, offset - limit)}` : null,
  };
}

/** A metadata patch applied: `null` clears it all, a `null` value removes its key. */
export function mergeMetadata(
  current: Record<string, string>,
  patch: Record<string, string | null> | null | undefined,
): Record<string, string> {
  if (patch === undefined) return current;
  if (patch === null) return {};
  const out = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export class ManagedRecords {
  constructor(
    readonly store: ManagedObjectStore,
    readonly clock: Clock,
  ) {}

  static newId(prefix: string): string {
    return `${prefix}_${randomBase62(24)}`;
  }

  /** The caller's object (its latest version, or the given one); another key's is not found. */
  async owned(
    kind: ManagedObjectKind,
    key: ApiKeyRecord,
    id: string,
    version?: number,
  ): Promise<ManagedObjectRecord> {
    const record = await this.store.getObject(kind, id, version);
    if (!record || record.keyId !== key.id) throw managedObjectNotFound(kind, id);
    return record;
  }

  async page(
    kind: ManagedObjectKind,
    key: ApiKeyRecord,
    request: PageRequest,
  ): Promise<{ records: ManagedObjectRecord[]; next_page: string | null; prev_page: string | null }> {
    const offset = offsetOf(request.page);
    const result = await this.store.listObjects(kind, key.id, {
      limit: request.limit,
      offset,
      includeArchived: request.includeArchived === true,
    });
    return {
      records: result.items,
      ...pageTokens(offset, result.items.length, request.limit, result.total),
    };
  }
}
