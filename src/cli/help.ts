/** The `--help` text of each level of the command-line tool. */
import { POLICY_FLAGS, UNSETTABLE_FIELDS } from './policy-flags.js';

export const PROG = 'claude-code-rest';

const DATA_DIR_LINE =
  '  --data-dir <dir>             the server\'s data dir (default: $DATA_DIR, else "./data")';

const policyFlagLines = (): string =>
  [
    ...POLICY_FLAGS.map((s) => {
      const arg = s.kind === 'int' ? ' N' : s.kind === 'usd' ? ' USD' : ' LIST';
      return `  --${s.flag}${arg}`.padEnd(31) + s.help;
    }),
    `  --policy '<json>'`.padEnd(31) + 'the whole policy as JSON, e.g. \'{"maxTurns":10}\'',
  ].join('\n');

export const MAIN_HELP = `Usage: ${PROG} <command> [options]

Commands:
  chat      talk to a session interactively (streaming, approvals, Ctrl-C interrupts)
  send      one turn for scripts: prints the answer (or --json)
  sessions  list, show, history, end sessions
  files     list a session's workspace, download a file
  diff      what a turn changed, as a unified diff
  keys      create, list, show, revoke, rename API keys and set their policies (on the server's machine)

Run "${PROG} keys --help" for the key commands, "${PROG} help client" for the others.
Exit codes: 0 done, 1 failed (for example an unknown key), 2 usage error.
`;

export const CLIENT_HELP = `Usage:
  ${PROG} chat [--session ID] [--model M] [--permission-mode MODE]
  ${PROG} send "prompt" [--session ID] [--model M] [--permission-mode MODE] [--json]
  ${PROG} sessions list [--json]
  ${PROG} sessions show|history|end ID [--json]
  ${PROG} files ID [PATH] [--recursive] [--json]
  ${PROG} files get ID PATH [-o FILE]
  ${PROG} diff ID [MESSAGE_ID] [--json]

They talk to a running server over HTTP:
  --url URL     the server (default: $CLAUDE_CODE_REST_URL, else http://127.0.0.1:3050)
  --key KEY     the API key (default: $CLAUDE_CODE_REST_KEY)

chat: the agent's text streams as it is written; a tool call shows in one line; when the server
asks for an approval, answer y (allow), n (deny) or a (allow and remember for the session).
Ctrl-C interrupts the running turn, a second Ctrl-C exits. A dropped stream resumes by itself.
send: without --session, a new session is made (its id is printed on stderr).
files: a folder of the workspace (default its root; --recursive: the tree below it), one line per
entry: size, time, path (a folder ends with /, a link with @). files get writes the file's bytes
to stdout, or to FILE with -o.
diff: the unified diff of the turn MESSAGE_ID (default: the last completed turn); --json: per file,
with its hunks.
Colours and the spinner only on a terminal, never with NO_COLOR.
Exit codes: 0 done, 1 the API refused or the turn failed ("error: CODE: message"), 2 usage error,
130 chat left in the middle of a turn.
`;

export const KEYS_HELP = `Usage: ${PROG} keys <command> [options]

Manages the API keys in the server's database. It works while the server runs: a revoked key
is refused from its next request on, and policy changes apply from the next request.

Commands:
  create --name <name> [--admin] [policy flags]   make a key; its secret is shown once
  list [--all]                                    keys (active ones; --all: revoked too)
  show <id|prefix>                                one key and its policy
  revoke <id|prefix>                              refuse the key from now on
  rename <id|prefix> <name>                       change a key's name
  policy <id|prefix> [policy flags] [--unset <field>]...
                                                  change a key's limits

Options of every command:
${DATA_DIR_LINE}
  --json                       JSON output (the admin API's shapes)
  --help                       help of the command

A key is named by its id (key_…) or by its prefix (the first characters of the secret, as
"list" shows them) when no other key has the same prefix.
`;

export const COMMAND_HELP: Record<string, string> = {
  create: `Usage: ${PROG} keys create --name <name> [--admin] [policy flags] [--json]

Makes a key and prints its secret. The secret is shown this once; only its hash is stored.

Options:
  --name <name>                1-100 letters, digits, spaces or ._:@/- characters (required)
  --admin                      an admin key (may call /admin/keys); default: a user key
${policyFlagLines()}
${DATA_DIR_LINE}
  --json                       print { key, secret } as JSON

Policy fields not given take the server's defaults (RATE_LIMIT_*, ALLOWED_PERMISSION_MODES,
WORKSPACE_ROOTS, …). Flags given with --policy override its fields.

Example:
  ${PROG} keys create --name ci-bot --rate-sessions 5 --max-turns 20 \\
      --permission-modes default,acceptEdits --allowed-tools 'Read,Write,Bash(npm test:*)'
`,
  list: `Usage: ${PROG} keys list [--all] [--json]

Lists the keys: name, id, prefix, role, created, last used, revoked, and their limits.
Never a secret or a hash.

Options:
  --all                        include revoked keys
${DATA_DIR_LINE}
  --json                       print { keys: [...] } as JSON
`,
  show: `Usage: ${PROG} keys show <id|prefix> [--json]

Shows one key and every field of its policy.

Options:
${DATA_DIR_LINE}
  --json                       print the key as JSON
`,
  revoke: `Usage: ${PROG} keys revoke <id|prefix> [--json]

Revokes a key for good: its next request gets 401 INVALID_API_KEY, and its open streams end.
Revoking a revoked key changes nothing.

Options:
${DATA_DIR_LINE}
  --json                       print the key as JSON
`,
  rename: `Usage: ${PROG} keys rename <id|prefix> <name> [--json]

Changes a key's name (1-100 letters, digits, spaces or ._:@/- characters).

Options:
${DATA_DIR_LINE}
  --json                       print the key as JSON
`,
  policy: `Usage: ${PROG} keys policy <id|prefix> [policy flags] [--unset <field>]... [--json]

Changes a key's policy: the flags given are merged into it, the fields named by --unset are
removed (the server's default applies again), the rest stays. --policy replaces the whole
policy first; the other flags then apply on top of it.

Options:
${policyFlagLines()}
  --unset <field>              remove a field; repeatable. Fields:
                               ${UNSETTABLE_FIELDS.join(', ')}
                               (a flag's name works too: --unset max-turns)
${DATA_DIR_LINE}
  --json                       print the key as JSON

Example:
  ${PROG} keys policy ccr_AbCd1234 --daily-budget 5 --unset maxTurns
`,
};
