/**
 * Conversations Claude Code kept only in its local files under the shared config dir
 * (`<DATA_DIR>/claude/projects/<sanitised cwd>/<id>.jsonl`), written before transcripts were
 * stored in the database or while every process shared that dir. A sandboxed process has a config
 * dir of its own and cannot see them, so such a transcript is copied into the store the first
 * time the session resumes, and resumes from there like any other.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SessionKey, SessionStore, SessionStoreEntry } from '@anthropic-ai/claude-agent-sdk';

/** The local transcript file of a Claude Code session in a config dir, or null. */
export function localTranscript(configDir: string, claudeSessionId: string): string | null {
  const projects = path.join(configDir, 'projects');
  let dirs: string[];
  try {
    dirs = fs.readdirSync(projects);
  } catch {
    return null;
  }
  for (const dir of dirs) {
    const file = path.join(projects, dir, `${claudeSessionId}.jsonl`);
    if (fs.existsSync(file)) return file;
  }
  return null;
}

/** One entry per non-empty line; a line that is not JSON (a torn last write) is skipped. */
export function parseTranscript(text: string): SessionStoreEntry[] {
  const entries: SessionStoreEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      entries.push(JSON.parse(line) as SessionStoreEntry);
    } catch {
      // Skipped.
    }
  }
  return entries;
}

/** `store`, whose `load` first imports a session found only in `legacyConfigDir`'s files. */
export function withLegacyImport(store: SessionStore, legacyConfigDir: string): SessionStore {
  return {
    append: (key, entries) => store.append(key, entries),
    async load(key: SessionKey) {
      const stored = await store.load(key);
      if (stored || key.subpath) return stored;
      const file = localTranscript(legacyConfigDir, key.sessionId);
      if (!file) return null;
      const entries = parseTranscript(await fs.promises.readFile(file, 'utf8'));
      if (entries.length === 0) return null;
      await store.append({ projectKey: key.projectKey, sessionId: key.sessionId }, entries);
      return store.load(key);
    },
    ...(store.listSessions ? { listSessions: store.listSessions.bind(store) } : {}),
    ...(store.listSubkeys ? { listSubkeys: store.listSubkeys.bind(store) } : {}),
    ...(store.delete ? { delete: store.delete.bind(store) } : {}),
  };
}
