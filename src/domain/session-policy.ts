/**
 * What a key's policy lets a new session do. Pure: it takes the request and the key's effective
 * policy and returns what the session will run with, or throws FORBIDDEN naming the rule that
 * refuses it (details.policy), so a client can tell a policy from a bug.
 */
import {
  bypassUnavailable,
  maxTurnsOverLimit,
  permissionModeRefused,
  toolDisabledOnServer,
  toolRuleRefused,
} from './error-situations.js';
import { toolNameOf, toolRulePermitted } from './key-policy.js';
import type { EffectivePolicy } from './policy-fields.js';
import type { PermissionMode } from './types.js';

export interface SessionRequest {
  permissionMode?: PermissionMode;
  maxTurns?: number;
  allowedTools?: string[];
  disallowedTools?: string[];
}

export interface ServerToolPolicy {
  /** Permission mode of a session that names none. */
  defaultPermissionMode: PermissionMode;
  /** Tools no session may use (DISALLOWED_TOOLS). */
  disallowedTools: readonly string[];
  /** Whether Claude Code can run `bypassPermissions` here (AgentRunner.bypassPermissions). */
  bypass: { allowed: true } | { allowed: false; reason: string };
}

export interface SessionGrant {
  permissionMode: PermissionMode;
  maxTurns: number | null;
  allowedTools: string[];
  disallowedTools: string[];
}

export function grantSession(
  request: SessionRequest,
  policy: EffectivePolicy,
  server: ServerToolPolicy,
): SessionGrant {
  const permissionMode = request.permissionMode ?? server.defaultPermissionMode;
  if (!policy.permissionModes.includes(permissionMode)) {
    throw permissionModeRefused(permissionMode, policy.permissionModes);
  }
  if (permissionMode === 'bypassPermissions' && !server.bypass.allowed) {
    throw bypassUnavailable(server.bypass.reason);
  }

  if (request.maxTurns !== undefined && policy.maxTurns !== null && request.maxTurns > policy.maxTurns) {
    throw maxTurnsOverLimit(request.maxTurns, policy.maxTurns);
  }

  const denied = new Set(server.disallowedTools.map(toolNameOf));
  for (const rule of request.allowedTools ?? []) {
    if (denied.has(toolNameOf(rule))) {
      throw toolDisabledOnServer(rule, toolNameOf(rule));
    }
    if (!toolRulePermitted(rule, policy.allowedTools)) {
      throw toolRuleRefused(rule, policy.allowedTools);
    }
  }

  return {
    permissionMode,
    maxTurns: request.maxTurns ?? policy.maxTurns,
    allowedTools: request.allowedTools ?? [],
    // The server's deny list always applies, on top of what the session removes itself.
    disallowedTools: [...new Set([...(request.disallowedTools ?? []), ...server.disallowedTools])],
  };
}

/**
 * The model Claude Code is told for a requested one (MODEL_MAP applied); null: Claude Code's own
 * default. The one rule for sessions and for the spares started ahead of them (spare-template.ts).
 */
export function modelToRun(
  requested: string | null,
  modelMap: Readonly<Record<string, string>>,
): string | null {
  return requested ? (modelMap[requested] ?? requested) : null;
}
