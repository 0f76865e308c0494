/**
 * The events a client sends to a `/v1` session: `user.message` (a turn, queued behind a running
 * one), `user.interrupt`, `user.tool_confirmation` (the answer to a permission question). Every
 * event is checked before any is acted on; what this server cannot act on is refused.
 */
import { invalidField, managedFeatureRefused, toolConfirmationNotPending } from '../error-situations.js';
import type { PermissionBroker } from '../permissions.js';
import type { TurnService } from '../turn-service.js';
import type { ApiKeyRecord } from '../types.js';
import type { ManagedRecords } from './records.js';
import { iso } from './records.js';

type Text = { type: string; text?: string };

/** One event a client sends (BetaManagedAgentsEventParams), as validated by the HTTP layer. */
export type SentEvent =
  | { type: 'user.message'; content: Text[] }
  | { type: 'user.interrupt'; session_thread_id?: string | null }
  | {
      type: 'user.tool_confirmation';
      tool_use_id: string;
      result: 'allow' | 'deny';
      deny_message?: string | null;
    }
  | { type: string; [field: string]: unknown };

/** The id of the tool-use event of a tool call (and so what a tool confirmation names). */
export const toolUseEventId = (toolUseId: string): string => `sevt_${toolUseId}`;
export const confirmationEventId = (requestId: string): string => `sevt_${requestId}`;
/** A `user.interrupt`: its `interrupt` event of the log (the seed's POST …/interrupt makes one too). */
export const interruptEventId = (seq: number): string => `sevt_interrupt_${seq}`;

function promptOf(content: Text[]): string {
  const texts: string[] = [];
  for (const block of content) {
    if (block.type !== 'text' || typeof block.text !== 'string') {
      throw managedFeatureRefused(
        `user.message content of type "${block.type}"`,
        'Claude Code takes text here; upload files and mount them as session resources instead.',
      );
    }
    texts.push(block.text);
  }
  const prompt = texts.join('\n\n');
  if (prompt.trim() === '') throw invalidField('A user.message needs some text.', 'content', 'empty');
  return prompt;
}

/** Refuses, before anything happens, an event this server cannot act on. */
export function checkSendable(event: SentEvent): void {
  switch (event.type) {
    case 'user.message':
      promptOf((event as { content: Text[] }).content);
      return;
    case 'user.interrupt':
      if ((event as { session_thread_id?: string | null }).session_thread_id) {
        throw managedFeatureRefused('session threads', 'a session here is one Claude Code agent.');
      }
      return;
    case 'user.tool_confirmation':
      return;
    case 'user.custom_tool_result':
      throw managedFeatureRefused('user.custom_tool_result', 'custom tools are not supported here.');
    case 'user.define_outcome':
      throw managedFeatureRefused('outcomes (user.define_outcome)', 'this server does not grade sessions.');
    default:
      throw managedFeatureRefused(
        `sending ${event.type}`,
        'clients send user.message, user.interrupt and user.tool_confirmation.',
      );
  }
}

export interface SendDeps {
  records: ManagedRecords;
  turns: TurnService;
  permissions: PermissionBroker;
}

export async function sendEvents(
  deps: SendDeps,
  key: ApiKeyRecord,
  id: string,
  events: SentEvent[],
): Promise<Array<Record<string, unknown>>> {
  for (const event of events) checkSendable(event);
  const out: Array<Record<string, unknown>> = [];
  for (const event of events) {
    const now = iso(deps.records.clock.now());
    if (event.type === 'user.message') {
      const content = (event as { content: Text[] }).content;
      const { turn } = await deps.turns.start(key, id, { prompt: promptOf(content), queue: true });
      out.push({ id: turn.id, type: 'user.message', content, processed_at: now });
    } else if (event.type === 'user.interrupt') {
      const { event: stored } = await deps.turns.interrupt(key, id);
      out.push({
        id: interruptEventId(stored.seq),
        type: 'user.interrupt',
        processed_at: iso(stored.createdAt),
      });
    } else {
      const confirmation = event as Extract<SentEvent, { type: 'user.tool_confirmation' }>;
      const pending = deps.permissions
        .list(id)
        .find(
          (p) =>
            toolUseEventId(p.toolUseId ?? p.requestId) === confirmation.tool_use_id ||
            p.toolUseId === confirmation.tool_use_id,
        );
      if (!pending) throw toolConfirmationNotPending(confirmation.tool_use_id);
      await deps.permissions.answer(id, pending.requestId, {
        decision: confirmation.result,
        ...(confirmation.deny_message ? { message: confirmation.deny_message } : {}),
      });
      out.push({
        id: confirmationEventId(pending.requestId),
        type: 'user.tool_confirmation',
        tool_use_id: confirmation.tool_use_id,
        result: confirmation.result,
        deny_message: confirmation.deny_message ?? null,
        processed_at: now,
      });
    }
  }
  return out;
}
