/**
 * The files of a session's workspace, as a client reads and changes them (the files API), and
 * the seed of a new workspace (`files` of POST /sessions). Paths are resolved by the
 * `WorkspaceFiles` port, which refuses anything outside the workspace. A client's change
 * (upload, delete) happens only between turns, holding the session meanwhile, and is recorded as
 * a checkpoint of its own, so "what did the agent change" never includes it.
 */
import { uploadTooLarge, workspaceQuotaExceeded } from './error-situations.js';
import type { SessionRegistry } from './session-registry.js';
import type { SessionRuntime } from './session-runtime.js';
import type { Checkpoints } from './checkpoints.js';
import type { Logger, UploadLimits, WorkspaceFiles, WorkspaceListing, WrittenFile } from './ports.js';
import type { ApiKeyRecord } from './types.js';

/** The most entries a recursive listing returns (`truncated: true` beyond). */
export const LISTING_CAP = 10_000;

/** One file of a new workspace's seed, decoded. */
export interface SeedFile {
  path: string;
  content: Buffer;
}

export interface FilesServiceDeps {
  registry: SessionRegistry;
  files: WorkspaceFiles;
  checkpoints: Checkpoints;
  logger: Logger;
  limits: UploadLimits;
}

export class FilesService {
  constructor(private readonly deps: FilesServiceDeps) {}

  list(key: ApiKeyRecord, sessionId: string, path: string, recursive: boolean): Promise<WorkspaceListing> {
    const session = this.deps.registry.find(key, sessionId);
    return this.deps.files.list(session.record.config.cwd, path, { recursive, cap: LISTING_CAP });
  }

  /** The real path of a file to send (the HTTP layer streams it, with ranges and validators). */
  locate(
    key: ApiKeyRecord,
    sessionId: string,
    path: string,
  ): Promise<{ absolutePath: string; path: string }> {
    const session = this.deps.registry.find(key, sessionId);
    return this.deps.files.locateFile(session.record.config.cwd, path);
  }

  archive(key: ApiKeyRecord, sessionId: string, path: string) {
    const session = this.deps.registry.find(key, sessionId);
    return this.deps.files.archive(session.record.config.cwd, path);
  }

  async write(
    key: ApiKeyRecord,
    sessionId: string,
    path: string,
    body: AsyncIterable<Uint8Array>,
    declaredBytes: number | null,
  ): Promise<WrittenFile> {
    // Refused before a byte is read when the client says how much it sends.
    if (declaredBytes !== null && declaredBytes > this.deps.limits.fileLimitBytes) {
      throw uploadTooLarge(this.deps.limits.fileLimitBytes);
    }
    return this.changing(key, sessionId, `upload ${path}`, (session) =>
      this.deps.files.write(session.record.config.cwd, path, body, this.deps.limits),
    );
  }

  remove(key: ApiKeyRecord, sessionId: string, path: string): Promise<{ path: string }> {
    return this.changing(key, sessionId, `delete ${path}`, (session) =>
      this.deps.files.remove(session.record.config.cwd, path),
    );
  }

  /**
   * Writes a new workspace's seed. Sizes are checked against the limits first, so a refused seed
   * writes nothing; the caller removes the workspace if a write fails anyway.
   */
  async seed(cwd: string, files: readonly SeedFile[]): Promise<void> {
    const { limits } = this.deps;
    let total = 0;
    for (const file of files) {
      if (file.content.length > limits.fileLimitBytes) throw uploadTooLarge(limits.fileLimitBytes);
      total += file.content.length;
    }
    if (total > limits.workspaceMaxBytes) throw workspaceQuotaExceeded(limits.workspaceMaxBytes, 0, total);
    for (const file of files) {
      await this.deps.files.write(cwd, file.path, oneChunk(file.content), limits);
    }
  }

  /** A client's change: only between turns, and recorded as a checkpoint of its own. */
  private async changing<T>(
    key: ApiKeyRecord,
    sessionId: string,
    what: string,
    change: (session: SessionRuntime) => Promise<T>,
  ): Promise<T> {
    const session = this.deps.registry.find(key, sessionId);
    const release = session.holdWorkspace();
    try {
      const result = await change(session);
      await this.deps.checkpoints.recordClientChange(session.record, what).catch((err: unknown) => {
        this.deps.logger.warn({ err, sessionId }, 'could not record a checkpoint of a client change');
      });
      return result;
    } finally {
      release();
    }
  }
}

async function* oneChunk(content: Buffer): AsyncIterable<Uint8Array> {
  yield content;
}
