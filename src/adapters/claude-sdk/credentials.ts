/**
 * Whether Claude Code has credentials for the model API, judged from what it will be given: its
 * environment and its own login in its config dir. Without any, every turn fails with Claude Code's
 * "Not logged in · Please run /login", which looks like an outage; the server warns at start and
 * says so in /health instead. Only names and the presence of a file are looked at: a credential's
 * value is never read into a message or a log.
 */
import fs from 'node:fs';
import path from 'node:path';

export type CredentialsStatus = 'configured' | 'missing';

/** A key or token for the Anthropic API, any non-empty value. */
const CREDENTIAL_VARIABLES = [
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'CLAUDE_CODE_OAUTH_TOKEN_FILE_DESCRIPTOR',
];

/**
 * Switches to a cloud provider, whose credentials come from that provider's own chain (AWS, Google
 * Cloud, Azure), which the server cannot judge: the switch counts as configured. The names are
 * those in Claude Code 2.1.330's binary.
 */
const PROVIDER_SWITCHES = [
  'CLAUDE_CODE_USE_BEDROCK',
  'CLAUDE_CODE_USE_VERTEX',
  'CLAUDE_CODE_USE_FOUNDRY',
  'CLAUDE_CODE_USE_ANTHROPIC_AWS',
  'CLAUDE_CODE_USE_ANTHROPIC_GOOGLE_CLOUD',
  'CLAUDE_CODE_USE_MANTLE',
];

/** Claude Code's own login (`claude /login`), kept in its config dir. */
export const LOGIN_FILE = '.credentials.json';

function switchedOn(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '' && !/^(0|false|no|off)$/i.test(value.trim());
}

export function credentialsStatus(
  env: Readonly<Record<string, string | undefined>>,
  claudeConfigDir: string,
): CredentialsStatus {
  if (CREDENTIAL_VARIABLES.some((name) => (env[name] ?? '').trim() !== '')) return 'configured';
  if (PROVIDER_SWITCHES.some((name) => switchedOn(env[name]))) return 'configured';
  return fs.existsSync(path.join(claudeConfigDir, LOGIN_FILE)) ? 'configured' : 'missing';
}
