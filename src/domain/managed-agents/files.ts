/**
 * Managed Agents' files: uploaded by a key, listed, downloaded and deleted by it alone, at most
 * MANAGED_FILE_MAX_BYTES each. The metadata is a managed record; the bytes are FileContents'.
 */
import { fileTooLarge, managedFeatureRefused } from '../error-situations.js';
import type { FileContents } from '../ports.js';
import type { ApiKeyRecord } from '../types.js';
import { iso, ManagedRecords, type PageOf, type PageRequest } from './records.js';

export interface FileView {
  id: string;
  type: 'file';
  filename: string;
  mime_type: string;
  size_bytes: number;
  created_at: string;
  downloadable: boolean;
}

export class ManagedFiles {
  constructor(
    private readonly records: ManagedRecords,
    private readonly contents: FileContents,
    private readonly maxBytes: number,
  ) {}

  get limitBytes(): number {
    return this.maxBytes;
  }

  async upload(
    key: ApiKeyRecord,
    file: { filename: string; mimeType: string; bytes: Uint8Array },
    options: { expiresInSeconds?: number } = {},
  ): Promise<FileView> {
    if (options.expiresInSeconds !== undefined) {
      throw managedFeatureRefused('expires_in_seconds', 'files are kept until deleted here.');
    }
    if (file.bytes.byteLength > this.maxBytes) throw fileTooLarge(this.maxBytes);
    const now = this.records.clock.now();
    const view: FileView = {
      id: ManagedRecords.newId('file'),
      type: 'file',
      filename: file.filename,
      mime_type: file.mimeType,
      size_bytes: file.bytes.byteLength,
      created_at: iso(now) as string,
      downloadable: true,
    };
    // The bytes first: a record never points at nothing.
    await this.contents.write(view.id, file.bytes);
    await this.records.store.putObject({
      kind: 'file',
      id: view.id,
      version: 1,
      keyId: key.id,
      data: JSON.stringify(view),
      createdAt: now,
      updatedAt: now,
      archivedAt: null,
    });
    return view;
  }

  async get(key: ApiKeyRecord, id: string): Promise<FileView> {
    return JSON.parse((await this.records.owned('file', key, id)).data) as FileView;
  }

  async download(key: ApiKeyRecord, id: string): Promise<{ view: FileView; bytes: Uint8Array }> {
    const view = await this.get(key, id);
    const bytes = await this.contents.read(id);
    if (!bytes) throw new Error(`file ${id} has a record but no content`);
    return { view, bytes };
  }

  async list(key: ApiKeyRecord, request: PageRequest): Promise<PageOf<FileView>> {
    const { records, ...tokens } = await this.records.page('file', key, request);
    return { data: records.map((r) => JSON.parse(r.data) as FileView), ...tokens };
  }

  /** Copies mounted into workspaces stay (they are the session's now). */
  async delete(key: ApiKeyRecord, id: string): Promise<{ id: string; type: 'file_deleted' }> {
    await this.records.owned('file', key, id);
    await this.records.store.deleteObject('file', id);
    await this.contents.remove(id);
    return { id, type: 'file_deleted' };
  }
}
