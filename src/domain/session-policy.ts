/**
 * What a key's policy lets a new session do. Pure: it takes the request and the key's effective
 * policy and returns what the session will run with, or throws FORBIDDEN naming the rule that
 * refuses it (details.policy), so a client can tell a policy from a bug.
 */
import { ApiError } from './errors.js';
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

function forbidden(message: string, details: Record<string, unknown>): ApiError {
  return new ApiError('FORBIDDEN', message, details);
}

export function grantSession(
  request: SessionRequest,
  policy: EffectivePolicy,
  server: ServerToolPolicy,
): SessionGrant {
  const permissionMode = request.permissionMode ?? server.defaultPermissionMode;
  if (!policy.permissionModes.includes(permissionMode)) {
    throw forbidden(`This key may not use permissionMode "${permissionMode}".`, {
      policy: 'permissionModes',
      permissionMode,
      allowed: policy.permissionModes,
    });
  }
  if (permissionMode === 'bypassPermissions' && !server.bypass.allowed) {
    throw forbidden(`bypassPermissions cannot run on this server: ${server.bypass.reason}.`, {
      policy: 'bypassPermissions',
      reason: server.bypass.reason,
    });
  }

  if (request.maxTurns !== undefined && policy.maxTurns !== null && request.maxTurns > policy.maxTurns) {
    throw forbidden(`maxTurns ${request.maxTurns} is over this key's limit of ${policy.maxTurns}.`, {
      policy: 'maxTurns',
      maxTurns: policy.maxTurns,
    });
  }

  const denied = new Set(server.disallowedTools.map(toolNameOf));
  for (const rule of request.allowedTools ?? []) {
    if (denied.has(toolNameOf(rule))) {
      throw forbidden(`The tool ${toolNameOf(rule)} is disabled on this server.`, {
        policy: 'DISALLOWED_TOOLS',
        tool: rule,
      });
    }
    if (!toolRulePermitted(rule, policy.allowedTools)) {
      throw forbidden(`This key may not allow "${rule}".`, {
        policy: 'allowedTools',
        tool: rule,
        permitted: policy.allowedTools,
      });
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
