/**
 * Which new sessions a prewarmed Claude Code process (a spare, PREWARM_PROCESSES) can serve.
 *
 * A spare is started before its session is known, with everything Claude Code fixes at start:
 * the model, the turn limit, the tool rules, and whether approvals are asked at all
 * (bypassPermissions asks nobody). Those are the server's defaults, what a plain
 * `POST /sessions {}` gets. A claim can still carry the folder, any other permission mode and the
 * session's system prompts. A session that differs in anything else starts cold, as without
 * spares.
 *
 * A spare claimed ahead (as soon as it parked, before its session was known: spare-pool.ts)
 * carries the claim's part too: the template's permission mode, no system prompt, and a
 * workspace as the spare found it (empty). Only a session that asks for exactly that takes it.
 */
import type { PermissionMode, SessionConfig } from './types.js';

export interface SpareTemplate {
  /** What Claude Code is told (after MODEL_MAP); null: its own default. */
  model: string | null;
  permissionMode: PermissionMode;
  maxTurns: number | null;
  allowedTools: string[];
  disallowedTools: string[];
}

type HostOptions = Pick<
  SessionConfig,
  'model' | 'permissionMode' | 'maxTurns' | 'allowedTools' | 'disallowedTools'
>;

/** Whether a session with `config` can be served by a spare started with `template`. */
export function fitsSpare(config: HostOptions, template: SpareTemplate): boolean {
  return (
    config.model === template.model &&
    config.maxTurns === template.maxTurns &&
    sameList(config.allowedTools, template.allowedTools) &&
    sameList(config.disallowedTools, template.disallowedTools) &&
    (config.permissionMode === 'bypassPermissions') === (template.permissionMode === 'bypassPermissions')
  );
}

/** What a new session asks of the claim, and whether its workspace is filled at create. */
export type ClaimRequest = HostOptions &
  Pick<SessionConfig, 'systemPrompt' | 'appendSystemPrompt'> & {
    /** Files or a repository are put in the workspace at create (Claude Code reads it at claim). */
    seeded: boolean;
  };

/** Whether a session asking `request` can be served by a spare claimed ahead with `template`. */
export function fitsClaimedSpare(request: ClaimRequest, template: SpareTemplate): boolean {
  return (
    fitsSpare(request, template) &&
    request.permissionMode === template.permissionMode &&
    request.systemPrompt === null &&
    request.appendSystemPrompt === null &&
    !request.seeded
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(b);
  return a.every((item) => set.has(item));
}
