/** How the terminal client shows a turn's events: text as it comes, tool calls in one line each. */
import type { Style } from './terminal.js';

interface SummaryPart {
  type: string;
  text?: string;
  name?: string | null;
  input?: unknown;
  isError?: boolean;
  content?: string;
}

export interface MessageData {
  type: string;
  role: string;
  source: string;
  summary: SummaryPart[];
}

export interface CompletionData {
  messageId: string;
  response: string;
  status: string;
  costUsd: number;
  durationMs: number;
  usage: {
    inputTokens: number;
    outputTokens: number;
    cacheReadInputTokens: number;
    cacheCreationInputTokens: number;
  };
}

const oneLine = (s: string, max: number): string => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** `Bash(ls -la)`: the tool and its main argument. */
export function toolCall(name: string, input: unknown): string {
  const values = input && typeof input === 'object' ? Object.values(input as Record<string, unknown>) : [];
  const first = values.find((v) => typeof v === 'string') as string | undefined;
  const shown = first ?? (values.length > 0 ? JSON.stringify(input) : '');
  // A long path keeps its end (the file's name), a command its start.
  const compact =
    shown.startsWith('/') && !/\s/.test(shown) && shown.length > 60
      ? `…${shown.slice(-59)}`
      : oneLine(shown, 60);
  return `${name}(${compact})`;
}

/**
 * The lines a `message` event adds. Its text is left out when it was already shown as it was
 * written (`textShown`: the turn streamed deltas).
 */
export function messageLines(m: MessageData, style: Style, textShown: boolean): string[] {
  if (m.source === 'client') return [];
  const lines: string[] = [];
  for (const part of m.summary) {
    if (part.type === 'text' && m.role === 'assistant' && !textShown && part.text) lines.push(part.text);
    if (part.type === 'tool_use') lines.push(style.cyan(`⏺ ${toolCall(part.name ?? '?', part.input)}`));
    if (part.type === 'tool_result') {
      const text = part.content ?? '';
      const count = text.split('\n').length;
      const first = oneLine(text.split('\n')[0] ?? '', 70);
      const more = count > 1 ? style.dim(` (+${count - 1} lines)`) : '';
      lines.push(`  ⎿ ${part.isError ? style.red(first || 'error') : style.dim(first)}${more}`);
    }
  }
  return lines;
}

export function completionLine(c: CompletionData, style: Style): string {
  const u = c.usage;
  const tokens = `${u.inputTokens + u.cacheReadInputTokens + u.cacheCreationInputTokens} in / ${u.outputTokens} out tokens`;
  const status = c.status === 'interrupted' ? `${style.yellow('interrupted')} · ` : '';
  return style.dim(`${status}${tokens} · $${c.costUsd.toFixed(4)} · ${(c.durationMs / 1000).toFixed(1)} s`);
}
