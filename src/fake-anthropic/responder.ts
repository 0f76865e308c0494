/**
 * The default responder: request body in, reply plan out. Pure (no I/O, no clock, no globals) so
 * every scripted behaviour is unit-testable without a server; the only state it needs, how many
 * times this prompt was already attempted, is passed in by the server.
 */
import { posix } from 'node:path';
import { parseDirectives } from './directives.js';
import type { Directive } from './directives.js';
import type { Reply } from './reply.js';
import { findWorkingDirectory, lastUserMessage, promptText, toolResults, userTexts } from './request-body.js';
import type { ScriptedBlock } from './wire.js';

export interface ResponderContext {
  /** How many earlier `/v1/messages` requests carried the same prompt text (0 on the first). */
  attempt: number;
}

export type Responder = (body: unknown, ctx: ResponderContext) => Reply;

/** Every unscripted reply says it is scripted, so a demo user never mistakes it for a model. */
export const DEMO_PREFIX = '(offline demo, scripted reply)';
export const TOOL_RESULT_PREFIX = 'Tool result: ';
const MAX_TOOL_RESULT_CHARS = 4000;
const MAX_ECHO_CHARS = 200;

/** Relative paths are resolved against the session's cwd: Claude Code's file tools want absolute paths. */
export function resolvePath(path: string, cwd: string | undefined): string {
  if (posix.isAbsolute(path) || cwd === undefined) return path;
  return posix.join(cwd, path);
}

function failureReply(directive: Directive, attempt: number): Reply | undefined {
  switch (directive.kind) {
    case 'hang':
      return { kind: 'hang' };
    case 'error':
      return { kind: 'error', status: directive.status };
    case 'flaky':
      return attempt < directive.times ? { kind: 'error', status: directive.status } : undefined;
    case 'midstream':
      return { kind: 'midstream' };
    case 'sse_error':
      return { kind: 'sse_error', errorType: directive.errorType };
    default:
      return undefined;
  }
}

interface ToolCall {
  preface: string;
  block: ScriptedBlock;
}

function toolCall(directive: Directive, cwd: string | undefined): ToolCall | undefined {
  switch (directive.kind) {
    case 'bash':
      return {
        preface: 'I will run a command.',
        block: {
          type: 'tool_use',
          name: 'Bash',
          input: { command: directive.command, description: `Run ${directive.command}`.slice(0, 80) },
        },
      };
    case 'write':
      return {
        preface: 'I will write a file.',
        block: {
          type: 'tool_use',
          name: 'Write',
          input: { file_path: resolvePath(directive.path, cwd), content: directive.content },
        },
      };
    case 'read':
      return {
        preface: 'I will read a file.',
        block: { type: 'tool_use', name: 'Read', input: { file_path: resolvePath(directive.path, cwd) } },
      };
    case 'tool':
      return {
        preface: `I will use the ${directive.name} tool.`,
        block: { type: 'tool_use', name: directive.name, input: directive.input },
      };
    default:
      return undefined;
  }
}

function recallText(body: unknown): string {
  const texts = userTexts(body);
  const lines = texts.map((text, i) => `${i + 1}. ${text}`);
  return `${DEMO_PREFIX} I can see ${texts.length} user message(s) in this conversation:\n${lines.join('\n')}`;
}

function slowChunks(chunks: number): string[] {
  return Array.from({ length: chunks }, (_, i) => `[${i + 1}/${chunks}] `);
}

export const defaultResponder: Responder = (body, ctx) => {
  const prompt = promptText(body);
  const results = toolResults(lastUserMessage(body));

  // A turn that only carries tool results: report what the agent was told, and stop.
  if (results.length > 0 && prompt === '') {
    const text = results.map((r) => TOOL_RESULT_PREFIX + r.text.slice(0, MAX_TOOL_RESULT_CHARS)).join('\n');
    return { kind: 'message', message: { content: [{ type: 'text', text }] } };
  }

  const { directives, problems } = parseDirectives(prompt);

  // Failures win over content; among failures, the first one written wins.
  for (const directive of directives) {
    const failure = failureReply(directive, ctx.attempt);
    if (failure) return failure;
  }

  const cwd = findWorkingDirectory(body);
  const blocks: ScriptedBlock[] = [];
  let deltaDelayMs: number | undefined;
  const calls: ToolCall[] = [];
  for (const directive of directives) {
    if (directive.kind === 'think') blocks.push({ type: 'thinking', thinking: directive.text });
    else if (directive.kind === 'recall') blocks.push({ type: 'text', text: recallText(body) });
    else if (directive.kind === 'slow') {
      blocks.push({ type: 'text', text: slowChunks(directive.chunks) });
      deltaDelayMs = directive.msPerChunk;
    } else {
      const call = toolCall(directive, cwd);
      if (call) calls.push(call);
    }
  }
  if (problems.length > 0) {
    blocks.push({
      type: 'text',
      text: `${DEMO_PREFIX} I could not use these directives:\n${problems.join('\n')}`,
    });
  }
  if (calls.length > 0) {
    blocks.push({ type: 'text', text: calls.map((c) => c.preface).join(' ') });
    blocks.push(...calls.map((c) => c.block));
  }
  if (!blocks.some((b) => b.type !== 'thinking')) {
    blocks.push({
      type: 'text',
      text: `${DEMO_PREFIX} You said: "${Array.from(prompt).slice(0, MAX_ECHO_CHARS).join('')}"`,
    });
  }
  const message = { content: blocks };
  return deltaDelayMs === undefined
    ? { kind: 'message', message }
    : { kind: 'message', message, deltaDelayMs };
};
