/**
 * Copies of a conversation with the SDK's own `forkSession` (fresh uuids, the parentUuid chain
 * kept, cut at `upToMessageId`), on the server's transcript store. For a copy that Claude Code
 * will resume in another folder (a fork's workspace), the copy is written under that folder's
 * project key, which the SDK itself names: `listSessions({ dir })` asks the store for it.
 *
 * The domain names the cut by the uuid Claude Code gave a message when it was said. After a
 * rewind the session goes on in a copy, whose entries have new uuids and say where they were
 * copied from (`forkedFrom: { sessionId, messageUuid }`); `uuidIn` follows those links back, so
 * a later rewind or fork still finds its place.
 */
import { randomUUID } from 'node:crypto';
import { forkSession, listSessions, type SessionStore } from '@anthropic-ai/claude-agent-sdk';
import type { TranscriptEntry, TranscriptStore } from '../../domain/stores.js';

/** How many copies of copies are followed back (each rewind makes one). */
const MAX_COPY_DEPTH = 100;

export async function forkConversation(
  transcripts: TranscriptStore,
  request: { claudeSessionId: string; cwd: string; upToUuid: string | null; targetCwd: string },
): Promise<string> {
  // Nothing to keep: a new conversation, which Claude Code starts under this id.
  if (request.upToUuid === null || !(await transcripts.has(request.claudeSessionId))) return randomUUID();
  const upTo = await uuidIn(transcripts, request.claudeSessionId, request.cwd, request.upToUuid, 0);
  if (upTo === null) {
    throw new Error(
      `message ${request.upToUuid} is not in conversation ${request.claudeSessionId} nor in what it was copied from`,
    );
  }
  const targetProject = await projectKeyOf(request.targetCwd);
  const store: SessionStore = {
    load: (key) => transcripts.load(key),
    listSessions: (projectKey) => transcripts.listSessions(projectKey),
    // The copy goes where Claude Code will look for it when it works in the target folder.
    append: (key, entries) =>
      transcripts.append({ ...key, projectKey: targetProject }, entries as TranscriptEntry[]),
  };
  const { sessionId } = await forkSession(request.claudeSessionId, {
    dir: request.cwd,
    upToMessageId: upTo,
    sessionStore: store,
  });
  return sessionId;
}

interface CopiedEntry {
  uuid?: string;
  cwd?: string;
  forkedFrom?: { sessionId?: string; messageUuid?: string };
}

/** The uuid, in conversation `sessionId`, of the message first said as `uuid` (null: not in it). */
async function uuidIn(
  transcripts: TranscriptStore,
  sessionId: string,
  cwd: string,
  uuid: string,
  depth: number,
): Promise<string | null> {
  const entries = ((await transcripts.load({ projectKey: await projectKeyOf(cwd), sessionId })) ??
    []) as CopiedEntry[];
  if (entries.some((e) => e.uuid === uuid)) return uuid;
  if (depth >= MAX_COPY_DEPTH) return null;
  // The conversations this one was copied from, each with the folder it was said in.
  const sources = new Map<string, string>();
  for (const e of entries) {
    if (e.forkedFrom?.sessionId && e.cwd && !sources.has(e.forkedFrom.sessionId)) {
      sources.set(e.forkedFrom.sessionId, e.cwd);
    }
  }
  for (const [source, sourceCwd] of sources) {
    const there = await uuidIn(transcripts, source, sourceCwd, uuid, depth + 1);
    if (!there) continue;
    const copy = entries.find(
      (e) => e.forkedFrom?.sessionId === source && e.forkedFrom.messageUuid === there,
    );
    if (copy?.uuid) return copy.uuid;
  }
  return null;
}

const projectKeys = new Map<string, string>();

async function projectKeyOf(dir: string): Promise<string> {
  const known = projectKeys.get(dir);
  if (known) return known;
  let asked: string | null = null;
  await listSessions({
    dir,
    sessionStore: {
      append: async () => undefined,
      load: async () => null,
      listSessions: async (projectKey) => {
        asked = projectKey;
        return [];
      },
    },
  });
  if (asked === null) throw new Error(`the SDK named no project for ${dir}`);
  if (projectKeys.size > 10_000) projectKeys.clear();
  projectKeys.set(dir, asked);
  return asked;
}
