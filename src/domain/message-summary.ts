/**
 * The stable, documented summary of a Claude Code message (`summary` of every message event and
 * history item): tool calls and their results recognisable without parsing Claude Code's own
 * message shapes, which may change between versions. The full message stays in `content`.
 */
import type { SummaryPart } from './events.js';
import type { ClaudeMessage } from './ports.js';

type Block = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const blocksOf = (message: ClaudeMessage): Block[] => {
  const content = (message.message as { content?: unknown } | undefined)?.content;
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? content.filter((b): b is Block => typeof b === 'object' && b !== null) : [];
};

/** The text of a tool result's content: a string, or its text blocks joined. */
function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((b: Block) => (b?.type === 'text' ? str(b.text) : b?.type === 'image' ? '[image]' : ''))
    .filter((t) => t !== '')
    .join('\n');
}

/**
 * @param toolNames tool_use id → tool name, of the calls seen so far in the session: a result
 *   carries only the id of its call.
 */
export function summarize(message: ClaudeMessage, toolNames: Map<string, string>): SummaryPart[] {
  switch (message.type) {
    case 'assistant':
    case 'user':
      return blocksOf(message).flatMap((b): SummaryPart[] => {
        if (b.type === 'text') return [{ type: 'text', text: str(b.text) }];
        if (b.type === 'thinking') return [{ type: 'thinking', text: str(b.thinking) }];
        if (b.type === 'tool_use') {
          toolNames.set(str(b.id), str(b.name));
          return [{ type: 'tool_use', toolUseId: str(b.id), name: str(b.name), input: b.input ?? {} }];
        }
        if (b.type === 'tool_result') {
          const id = str(b.tool_use_id);
          return [
            {
              type: 'tool_result',
              toolUseId: id,
              name: toolNames.get(id) ?? null,
              isError: b.is_error === true,
              content: resultText(b.content),
            },
          ];
        }
        return [];
      });
    case 'system':
      return [systemPart(message)];
    case 'result':
      return [
        {
          type: 'result',
          subtype: str(message.subtype),
          isError: message.is_error === true,
          numTurns: typeof message.num_turns === 'number' ? message.num_turns : 0,
          durationMs: typeof message.duration_ms === 'number' ? message.duration_ms : 0,
          stopReason: typeof message.stop_reason === 'string' ? message.stop_reason : null,
        },
      ];
    default:
      return [];
  }
}

function systemPart(message: ClaudeMessage): SummaryPart {
  const subtype = str(message.subtype);
  if (subtype === 'init') {
    return {
      type: 'system',
      subtype,
      model: message.model,
      permissionMode: message.permissionMode,
      cwd: message.cwd,
    };
  }
  if (subtype === 'api_retry') {
    return {
      type: 'system',
      subtype,
      attempt: message.attempt,
      maxRetries: message.max_retries,
      delayMs: message.retry_delay_ms,
      upstreamStatus: message.error_status,
    };
  }
  return { type: 'system', subtype };
}
