/**
 * Copies of a conversation with the SDK's own `forkSession` (fresh uuids, the parentUuid chain
 * kept, cut at `upToMessageId`), on the server's transcript store. For a copy that Claude Code
 * will resume in another folder (a fork's workspace), the copy is written under that folder's
 * project key, which the SDK itself names: `listSessions({ dir })` asks the store for it.
 */
import { randomUUID } from 'node:crypto';
import { forkSession, listSessions, type SessionStore } from '@anthropic-ai/claude-agent-sdk';
import type { TranscriptStore } from '../../domain/stores.js';

export async function forkConversation(
  transcripts: TranscriptStore,
  request: { claudeSessionId: string; cwd: string; upToUuid: string | null; targetCwd: string },
): Promise<string> {
  // Nothing to keep: a new conversation, which Claude Code starts under this id.
  if (request.upToUuid === null || !(await transcripts.has(request.claudeSessionId))) return randomUUID();
  const targetProject = await projectKeyOf(request.targetCwd);
  const store: SessionStore = {
    load: (key) => transcripts.load(key),
    listSessions: (projectKey) => transcripts.listSessions(projectKey),
    // The copy goes where Claude Code will look for it when it works in the target folder.
    append: (key, entries) =>
      transcripts.append(
        { ...key, projectKey: targetProject },
        entries as Parameters<TranscriptStore['append']>[1],
      ),
  };
  const { sessionId } = await forkSession(request.claudeSessionId, {
    dir: request.cwd,
    upToMessageId: request.upToUuid,
    sessionStore: store,
  });
  return sessionId;
}

async function projectKeyOf(dir: string): Promise<string> {
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
  return asked;
}
