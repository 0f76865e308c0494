/**
 * The shape of a `message` event, which is also one item of the message history:
 * our envelope (id, sequence, timestamp, role) around the full Claude Code message.
 */
import type { ClaudeMessage } from './ports.js';
import type { EventMeta } from './event-log.js';
import type { MessageRole, MessageView } from './events.js';
import { summarize } from './message-summary.js';

/** The client's prompt, shaped like the user message Claude Code itself receives. */
export function promptView(sessionId: string, turnId: string, prompt: string, meta: EventMeta): MessageView {
  return {
    id: turnId,
    sessionId,
    turnId,
    sequence: meta.seq,
    timestamp: new Date(meta.createdAt).toISOString(),
    type: 'user',
    role: 'user',
    source: 'client',
    summary: [{ type: 'text', text: prompt }],
    content: { type: 'user', message: { role: 'user', content: prompt } },
  };
}

export function claudeMessageView(
  sessionId: string,
  turnId: string,
  message: ClaudeMessage,
  meta: EventMeta,
  toolNames: Map<string, string>,
): MessageView {
  const subtype = typeof message.subtype === 'string' ? message.subtype : undefined;
  return {
    id: typeof message.uuid === 'string' ? message.uuid : `${sessionId}-${meta.seq}`,
    sessionId,
    turnId,
    sequence: meta.seq,
    timestamp: new Date(meta.createdAt).toISOString(),
    type: message.type,
    ...(subtype ? { subtype } : {}),
    role: roleOf(message.type),
    source: 'claude_code',
    summary: summarize(message, toolNames),
    content: message,
  };
}

function roleOf(type: string): MessageRole {
  if (type === 'assistant') return 'assistant';
  if (type === 'user') return 'user';
  return 'system';
}

/** The text blocks of an assistant message, joined; '' for any other message. */
export function assistantText(message: ClaudeMessage): string {
  if (message.type !== 'assistant') return '';
  const inner = message.message as { content?: unknown } | undefined;
  if (!Array.isArray(inner?.content)) return '';
  return inner.content
    .filter((b): b is { type: 'text'; text: string } => b?.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text)
    .join('');
}
