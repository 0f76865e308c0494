/**
 * Read-only views of an Anthropic Messages request body, as Claude Code sends it.
 *
 * Bodies arrive as untrusted JSON, so everything here narrows `unknown` and tolerates shapes it
 * does not know. Claude Code wraps context it injects (environment, reminders) in
 * `<system-reminder>` tags inside user messages; "what the user said" excludes those.
 */

export interface RequestMessage {
  role: string;
  /** A plain string or a list of content blocks (kept as `unknown`: blocks are narrowed on use). */
  content: string | readonly unknown[];
}

export interface ToolResultView {
  toolUseId: string;
  text: string;
  isError: boolean;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function requestMessages(body: unknown): RequestMessage[] {
  if (!isRecord(body) || !Array.isArray(body.messages)) return [];
  const messages: RequestMessage[] = [];
  for (const m of body.messages as unknown[]) {
    if (!isRecord(m) || typeof m.role !== 'string') continue;
    const content = m.content;
    if (typeof content === 'string' || Array.isArray(content)) messages.push({ role: m.role, content });
  }
  return messages;
}

export function requestModel(body: unknown): string | undefined {
  return isRecord(body) && typeof body.model === 'string' ? body.model : undefined;
}

/** The API's default is non-streaming; Claude Code sets `stream: true` except in its fallback. */
export function isStreamingRequest(body: unknown): boolean {
  return isRecord(body) && body.stream === true;
}

const SYSTEM_REMINDER = /<system-reminder>[\s\S]*?(<\/system-reminder>|$)/g;
const INTERRUPT_MARKER = /\[Request interrupted by user(?: for tool use)?\]/g;

export function stripSystemReminders(text: string): string {
  return text.replace(SYSTEM_REMINDER, '');
}

/** The message's text blocks, reminders removed, blank ones dropped, in order. */
function textParts(message: RequestMessage): string[] {
  const parts =
    typeof message.content === 'string'
      ? [message.content]
      : message.content.flatMap((block) =>
          isRecord(block) && block.type === 'text' && typeof block.text === 'string' ? [block.text] : [],
        );
  return parts.map((part) => stripSystemReminders(part).trim()).filter((part) => part.length > 0);
}

/** The message's own text: text blocks only, reminders removed, blank parts dropped. */
export function messageText(message: RequestMessage): string {
  return textParts(message).join('\n');
}

export function lastUserMessage(body: unknown): RequestMessage | undefined {
  return requestMessages(body).findLast((m) => m.role === 'user');
}

/**
 * The newest prompt of the latest user message, the one this request was made for. After a failed
 * or interrupted turn Claude Code sends the failed prompt, an interruption marker (after an
 * interrupt) and the new prompt as separate text blocks of one user message (recorded with Claude
 * Code 2.1.330: `["hang [[hang]]\n", "[Request interrupted by user]\n", "plain follow-up"]`), so
 * only the last block is the new prompt, and within it only the text after the last marker.
 * Acting on the whole message would fire a failed prompt's directives again on every later turn.
 */
export function promptText(body: unknown): string {
  const last = lastUserMessage(body);
  const newest = last ? (textParts(last).at(-1) ?? '') : '';
  return (newest.split(INTERRUPT_MARKER).at(-1) ?? '').trim();
}

/** The plain texts of every user message in the history, oldest first; tool-result-only messages are skipped. */
export function userTexts(body: unknown): string[] {
  return requestMessages(body)
    .filter((m) => m.role === 'user')
    .map(messageText)
    .filter((text) => text.length > 0);
}

function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .flatMap((block: unknown) => {
      if (!isRecord(block)) return [];
      if (block.type === 'text' && typeof block.text === 'string') return [block.text];
      if (block.type === 'image') return ['[image]'];
      return [];
    })
    .join('\n');
}

export function toolResults(message: RequestMessage | undefined): ToolResultView[] {
  if (!message || typeof message.content === 'string') return [];
  return message.content.flatMap((block) => {
    if (!isRecord(block) || block.type !== 'tool_result') return [];
    return [
      {
        toolUseId: typeof block.tool_use_id === 'string' ? block.tool_use_id : '',
        // Claude Code appends reminders (e.g. token counts) to results; they are not the tool's output.
        text: stripSystemReminders(toolResultText(block.content)).trim(),
        isError: block.is_error === true,
      },
    ];
  });
}

function* strings(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const item of value) yield* strings(item);
  else if (isRecord(value)) for (const item of Object.values(value)) yield* strings(item);
}

const WORKING_DIRECTORY = /Primary working directory:[ \t]*([^\r\n<]+)/;

/**
 * The session's cwd. Claude Code states it as a "Primary working directory: <path>" line, in a
 * system block or in a reminder of the first user message depending on the system prompt, so the
 * whole body is searched. A conversation continued in another folder (a fork) states it again,
 * `<new> (was <old>)`: the last statement is the one in force.
 */
export function findWorkingDirectory(body: unknown): string | undefined {
  let found: string | undefined;
  for (const text of strings(body)) {
    for (const match of text.matchAll(new RegExp(WORKING_DIRECTORY.source, 'g'))) {
      const dir = match[1]?.replace(/\s+\(was [^)]*\)\s*$/, '').trim();
      if (dir) found = dir;
    }
  }
  return found;
}
