/**
 * `[[...]]` directives: scripted behaviour requested from inside the prompt text.
 *
 * Putting the script in the prompt means it survives every layer between a test (or a demo user)
 * and the fake: the REST server, the spawned Claude Code process, and its request to the API.
 * Only the newest prompt is parsed (see `promptText`), so older turns never re-trigger, not even a
 * failed prompt that Claude Code merges into the next user message.
 */

export type Directive =
  | { kind: 'bash'; command: string }
  | { kind: 'write'; path: string; content: string }
  | { kind: 'read'; path: string }
  | { kind: 'tool'; name: string; input: Record<string, unknown> }
  | { kind: 'think'; text: string }
  | { kind: 'slow'; chunks: number; msPerChunk: number }
  | { kind: 'error'; status: number }
  | { kind: 'flaky'; times: number; status: number }
  | { kind: 'midstream' }
  | { kind: 'sse_error'; errorType: string }
  | { kind: 'hang' }
  | { kind: 'recall' };

export interface ParsedDirectives {
  directives: Directive[];
  /** Human-readable complaints about unknown or malformed directives, in order. */
  problems: string[];
}

export const DIRECTIVE_NAMES = [
  'bash',
  'env',
  'write',
  'read',
  'tool',
  'think',
  'slow',
  'error',
  'flaky',
  'midstream',
  'sse_error',
  'hang',
  'recall',
] as const;

const NAME = /^[A-Za-z_]+/;
const MAX_SLOW_CHUNKS = 10_000;
const MAX_SLOW_DELAY_MS = 60_000;

/** Splits "a:b:c" at the first colon only: later parts (file content, JSON, commands) may contain colons. */
function splitFirst(arg: string): [string, string | undefined] {
  const at = arg.indexOf(':');
  return at < 0 ? [arg, undefined] : [arg.slice(0, at), arg.slice(at + 1)];
}

function parseIntIn(text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined || !/^\s*\d+\s*$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** One directive from its name and raw argument; a string is a problem description. */
function interpret(name: string, arg: string | undefined): Directive | string {
  const raw = arg === undefined ? `[[${name}]]` : `[[${name}:${arg}]]`;
  switch (name) {
    case 'bash':
      return arg?.trim() ? { kind: 'bash', command: arg.trim() } : `${raw}: a command is required`;
    case 'env':
      return { kind: 'bash', command: 'env' };
    case 'write': {
      const [path, content] = splitFirst(arg ?? '');
      return path.trim() && content !== undefined
        ? { kind: 'write', path: path.trim(), content }
        : `${raw}: expected [[write:<path>:<content>]]`;
    }
    case 'read':
      return arg?.trim() ? { kind: 'read', path: arg.trim() } : `${raw}: a path is required`;
    case 'tool': {
      const [toolName, json] = splitFirst(arg ?? '');
      const input = json === undefined || json.trim() === '' ? {} : parseJsonObject(json);
      if (!toolName.trim()) return `${raw}: a tool name is required`;
      return input
        ? { kind: 'tool', name: toolName.trim(), input }
        : `${raw}: the input must be a JSON object`;
    }
    case 'think':
      return arg?.trim() ? { kind: 'think', text: arg.trim() } : `${raw}: thinking text is required`;
    case 'slow': {
      const [chunksText, msText] = splitFirst(arg ?? '');
      const chunks = parseIntIn(chunksText, 1, MAX_SLOW_CHUNKS);
      const msPerChunk = parseIntIn(msText, 0, MAX_SLOW_DELAY_MS);
      return chunks !== undefined && msPerChunk !== undefined
        ? { kind: 'slow', chunks, msPerChunk }
        : `${raw}: expected [[slow:<chunks 1-${MAX_SLOW_CHUNKS}>:<ms 0-${MAX_SLOW_DELAY_MS}>]]`;
    }
    case 'error': {
      const status = parseIntIn(arg, 400, 599);
      return status !== undefined ? { kind: 'error', status } : `${raw}: expected an HTTP status 400-599`;
    }
    case 'flaky': {
      const [timesText, statusText] = splitFirst(arg ?? '');
      const times = parseIntIn(timesText, 1, 1000);
      const status = parseIntIn(statusText, 400, 599);
      return times !== undefined && status !== undefined
        ? { kind: 'flaky', times, status }
        : `${raw}: expected [[flaky:<times>:<status 400-599>]]`;
    }
    case 'midstream':
      return { kind: 'midstream' };
    case 'sse_error':
      return arg?.trim()
        ? { kind: 'sse_error', errorType: arg.trim() }
        : { kind: 'sse_error', errorType: 'overloaded_error' };
    case 'hang':
      return { kind: 'hang' };
    case 'recall':
      return { kind: 'recall' };
    default:
      return `${raw}: unknown directive "${name}" (known: ${DIRECTIVE_NAMES.join(', ')})`;
  }
}

/**
 * Finds every `[[name]]` / `[[name:args]]` in `text`, in order. A `[[tool:…]]` argument may itself
 * contain `]]` (JSON arrays), so for it the first closing `]]` that yields valid JSON wins.
 */
export function parseDirectives(text: string): ParsedDirectives {
  const result: ParsedDirectives = { directives: [], problems: [] };
  let pos = 0;
  for (;;) {
    const open = text.indexOf('[[', pos);
    if (open < 0) return result;
    const afterOpen = open + 2;
    const name = NAME.exec(text.slice(afterOpen))?.[0];
    const afterName = afterOpen + (name?.length ?? 0);
    if (!name || (!text.startsWith(']]', afterName) && text[afterName] !== ':')) {
      pos = afterOpen; // not directive syntax, e.g. "[[1, 2]]" in prose
      continue;
    }
    const lower = name.toLowerCase();
    let arg: string | undefined;
    let end: number;
    if (text.startsWith(']]', afterName)) {
      end = afterName + 2;
    } else {
      const argStart = afterName + 1;
      let close = text.indexOf(']]', argStart);
      if (close < 0) {
        result.problems.push(`[[${name}:…: missing the closing ]]`);
        return result;
      }
      if (lower === 'tool') {
        for (let c = close; c >= 0; c = text.indexOf(']]', c + 1)) {
          const json = splitFirst(text.slice(argStart, c))[1];
          if (json !== undefined && parseJsonObject(json)) {
            close = c;
            break;
          }
        }
      }
      arg = text.slice(argStart, close);
      end = close + 2;
    }
    const directive = interpret(lower, arg);
    if (typeof directive === 'string') result.problems.push(directive);
    else result.directives.push(directive);
    pos = end;
  }
}
