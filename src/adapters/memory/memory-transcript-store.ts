/** Claude Code's transcripts in a Map: the memory twin of SqliteTranscriptStore. */
import type { TranscriptEntry, TranscriptKey, TranscriptStore } from '../../domain/stores.js';
import type { TranscriptMap } from './memory-store.js';

const SEP = '\u0000';

function mapKey(key: TranscriptKey): string {
  return [key.projectKey, key.sessionId, key.subpath ?? ''].join(SEP);
}

export class MemoryTranscriptStore implements TranscriptStore {
  private readonly mtimes = new Map<string, number>();

  constructor(private readonly entries: TranscriptMap) {}

  async append(key: TranscriptKey, entries: TranscriptEntry[]): Promise<void> {
    const id = mapKey(key);
    const stored = this.entries.get(id) ?? [];
    // An entry with a uuid already stored is a retry of the same batch: ignored.
    const seen = new Set(stored.map((e) => e.uuid).filter((u) => u !== undefined));
    for (const entry of entries) {
      if (typeof entry.uuid === 'string' && seen.has(entry.uuid)) continue;
      stored.push(structuredClone(entry));
    }
    this.entries.set(id, stored);
    this.mtimes.set(id, Date.now());
  }

  async load(key: TranscriptKey): Promise<TranscriptEntry[] | null> {
    const stored = this.entries.get(mapKey(key));
    return stored && stored.length > 0 ? structuredClone(stored) : null;
  }

  async listSessions(projectKey: string): Promise<Array<{ sessionId: string; mtime: number }>> {
    const out: Array<{ sessionId: string; mtime: number }> = [];
    for (const id of this.entries.keys()) {
      const [project, sessionId, subpath] = id.split(SEP) as [string, string, string];
      if (project === projectKey && subpath === '') out.push({ sessionId, mtime: this.mtimes.get(id) ?? 0 });
    }
    return out;
  }

  async listSubkeys(key: { projectKey: string; sessionId: string }): Promise<string[]> {
    const out: string[] = [];
    for (const id of this.entries.keys()) {
      const [project, sessionId, subpath] = id.split(SEP) as [string, string, string];
      if (project === key.projectKey && sessionId === key.sessionId && subpath !== '') out.push(subpath);
    }
    return out;
  }

  async delete(key: TranscriptKey): Promise<void> {
    this.entries.delete(mapKey(key));
  }

  async has(claudeSessionId: string): Promise<boolean> {
    for (const [id, entries] of this.entries) {
      if (id.split(SEP)[1] === claudeSessionId && entries.length > 0) return true;
    }
    return false;
  }
}
