/**
 * The environment of a Claude Code child process, built on purpose.
 *
 * The SDK's `env` option REPLACES the child's environment, so nothing leaks by default: we pass
 * an allow-list of the basics a shell needs, Claude Code's own settings, and our own
 * CLAUDE_CONFIG_DIR. The server's secrets (API_KEYS, database or Redis URLs, admin keys) are
 * never on the list, so the agent cannot print them with `env`.
 *
 * Claude Code's own credentials (ANTHROPIC_API_KEY, …) must be here, and Claude Code hands its
 * environment on to the agent's commands; the sandbox (sandbox-settings.ts) denies them there.
 * (Claude Code's CLAUDE_CODE_SUBPROCESS_ENV_SCRUB would too, but it also forces every session
 * into the `default` permission mode.)
 */

/** Variables a shell and common tools need to behave normally. */
const BASIC_VARIABLES = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'TERM',
  'SHELL',
  'USER',
];

/** Network settings Claude Code honours when it reaches the model API through a proxy. */
const PROXY_VARIABLES = [
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
];

/** Claude Code's own settings: its credentials, endpoints, retries and switches. */
const CLAUDE_CODE_PREFIXES = ['ANTHROPIC_', 'CLAUDE_CODE_', 'DISABLE_'];
const CLAUDE_CODE_VARIABLES = [
  'API_TIMEOUT_MS',
  'MAX_THINKING_TOKENS',
  'BASH_DEFAULT_TIMEOUT_MS',
  'BASH_MAX_TIMEOUT_MS',
];

/**
 * Never passed, even if they happen to match a prefix: the server's own secrets.
 * (None of these match today; the list guards against a future prefix that would.)
 */
const NEVER_PASSED = new Set(['API_KEYS', 'ADMIN_API_KEYS', 'ADMIN_API_KEY', 'DATABASE_URL', 'REDIS_URL']);

export interface ChildEnvOptions {
  source: Readonly<Record<string, string | undefined>>;
  claudeConfigDir: string;
}

export function buildChildEnv({ source, claudeConfigDir }: ChildEnvOptions): Record<string, string> {
  const env: Record<string, string> = {};
  const take = (name: string): void => {
    const value = source[name];
    if (value !== undefined && !NEVER_PASSED.has(name)) env[name] = value;
  };
  for (const name of [...BASIC_VARIABLES, ...PROXY_VARIABLES, ...CLAUDE_CODE_VARIABLES]) take(name);
  for (const name of Object.keys(source)) {
    if (CLAUDE_CODE_PREFIXES.some((prefix) => name.startsWith(prefix))) take(name);
  }
  // Non-interactive defaults that a server wants; an operator may override them explicitly.
  env.DISABLE_AUTOUPDATER ??= '1';
  env.DISABLE_TELEMETRY ??= '1';
  env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC ??= '1';
  // No cron tools: a scheduled prompt would start a turn nobody sent, which the server stops
  // (claude-process.ts), so offering them would only mislead the model.
  env.CLAUDE_CODE_DISABLE_CRON ??= '1';
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  // Transcripts, settings and caches of the agent live under the server's data dir, not in
  // the home directory of whoever runs the server.
  env.CLAUDE_CONFIG_DIR = claudeConfigDir;
  return env;
}
