/**
 * Claude Code's permission question (`canUseTool`) in the domain's terms, and the domain's answer
 * back in Claude Code's.
 */
import type { CanUseTool, PermissionResult, PermissionUpdate } from '@anthropic-ai/claude-agent-sdk';
import type { PermissionAnswer, PermissionAsk } from '../../domain/ports.js';

export type CanUseToolOptions = Parameters<CanUseTool>[2];

export function toPermissionAsk(
  toolName: string,
  input: Record<string, unknown>,
  options: CanUseToolOptions,
): PermissionAsk {
  return {
    toolName,
    input,
    toolUseId: options.toolUseID ?? null,
    description: options.description ?? options.title ?? null,
    displayName: options.displayName ?? null,
    decisionReason: options.decisionReason ?? null,
    suggestions: options.suggestions ?? [],
    signal: options.signal,
  };
}

export function toPermissionResult(
  answer: PermissionAnswer,
  input: Record<string, unknown>,
): PermissionResult {
  if (answer.behavior === 'deny') {
    return { behavior: 'deny', message: answer.message, ...(answer.interrupt ? { interrupt: true } : {}) };
  }
  return {
    behavior: 'allow',
    updatedInput: answer.updatedInput ?? input,
    // Claude Code suggests rules for its settings files (a workspace's .claude/settings.local.json):
    // "remember" keeps them for this session only, and never writes files in the workspace.
    ...(answer.remember?.length
      ? {
          updatedPermissions: answer.remember.map(
            (rule) => ({ ...(rule as object), destination: 'session' }) as PermissionUpdate,
          ),
        }
      : {}),
  };
}
