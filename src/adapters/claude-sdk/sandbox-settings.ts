/**
 * Claude Code's sandbox for the agent's commands (Bash and what it starts), built from the
 * server's policy. Claude Code runs them under bubblewrap:
 * - no network at all (no allowed domains): the agent's model calls are Claude Code's own and
 *   do not pass through the sandbox;
 * - the file system is read-only outside the session's working directory;
 * - the credentials Claude Code itself holds (ANTHROPIC_*) are removed from the commands'
 *   environment; `denyRead` paths (the server's data dir with its database, transcripts and the
 *   other sessions' workspaces; the server user's keys) cannot be read, except the session's
 *   own working directory.
 * Commands cannot ask to leave the sandbox (`allowUnsandboxedCommands: false`), and being
 * sandboxed does not approve them: the session's permission mode still decides.
 */
import type { Options } from '@anthropic-ai/claude-agent-sdk';

export type SandboxSettings = NonNullable<Options['sandbox']>;

export interface SandboxPolicy {
  /** Environment variables the agent's commands must not see. */
  deniedEnvVars: string[];
  /** Paths the agent's commands must not read. */
  denyRead: string[];
  /** Domains the agent's commands may reach (empty: none). */
  allowedDomains: string[];
}

/** Which of the child's variables are Claude Code's credentials and settings, never the agent's. */
export function credentialVariables(env: Record<string, string>): string[] {
  return Object.keys(env).filter(
    (name) => name.startsWith('ANTHROPIC_') || name === 'CLAUDE_CODE_OAUTH_TOKEN',
  );
}

/**
 * `readable` are the session's own directories (its working directory and its temp directory):
 * readable by its commands although they lie inside a denied path such as the data dir.
 */
export function sandboxSettings(policy: SandboxPolicy, readable: string[]): SandboxSettings {
  return {
    enabled: true,
    // The server checked that the sandbox works here (or was told to require it): if Claude
    // Code finds otherwise, the turn must fail rather than run unsandboxed.
    failIfUnavailable: true,
    autoAllowBashIfSandboxed: false,
    allowUnsandboxedCommands: false,
    // strictAllowlist: a host that is not listed is refused. Without it the sandbox's proxy asks,
    // and in bypassPermissions nobody says no: every host would be reachable.
    network: { allowedDomains: policy.allowedDomains, strictAllowlist: true },
    filesystem: { denyRead: policy.denyRead, allowRead: readable },
    credentials: { envVars: policy.deniedEnvVars.map((name) => ({ name, mode: 'deny' as const })) },
  };
}
