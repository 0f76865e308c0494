/**
 * `claude-code-rest keys …`: key management on the server's own database. Works while the
 * server runs (SQLite in WAL mode; the server reads a key from the store on each request).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openKeyAdmin, StartupError, type StoreLocation } from '../composition-stores.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { ApiError } from '../domain/errors.js';
import type { KeyAdmin } from '../domain/key-admin.js';
import { CliFailure, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
import { keyJson } from '../domain/key-admin.js';
import { json, keyDetails, keyTable, policyLines } from './format.js';
import { COMMAND_HELP, KEYS_HELP, PROG } from './help.js';
import { isoOrNull } from '../domain/time.js';
import {
  POLICY_OPTIONS,
  applyPolicyChange,
  isEmptyChange,
  policyChangeFrom,
  validatePolicy,
} from './policy-flags.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
}

interface Context {
  io: Io;
  /** `--data-dir` given before the command name, if any. */
  dataDir: string | undefined;
}

const COMMON = {
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
} as const;

type Command = (args: string[], ctx: Context) => Promise<void>;

const COMMANDS: Record<string, Command> = { create, list, show, revoke, rename, policy };

export async function runKeys(args: string[], io: Io): Promise<number> {
  let dataDir: string | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--data-dir') {
      dataDir = args[++i];
      if (dataDir === undefined) throw new UsageError('--data-dir needs a directory.', 'keys');
    } else if (arg.startsWith('--data-dir=')) {
      dataDir = arg.slice('--data-dir='.length);
    } else if (arg === '--help' || arg === '-h') {
      io.out(KEYS_HELP);
      return EXIT_OK;
    } else if (arg.startsWith('-')) {
      throw new UsageError(`Unknown option ${arg} (options go after the command).`, 'keys');
    } else {
      break;
    }
  }
  const name = args[i];
  const rest = args.slice(i + 1);
  if (name === undefined) {
    io.err(KEYS_HELP);
    return EXIT_USAGE;
  }
  if (name === 'help') {
    const topic = rest[0];
    io.out(topic !== undefined && COMMAND_HELP[topic] ? COMMAND_HELP[topic] : KEYS_HELP);
    return EXIT_OK;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    throw new UsageError(
      `Unknown command "keys ${name}". Commands: ${Object.keys(COMMANDS).join(', ')}.`,
      'keys',
    );
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(COMMAND_HELP[name] ?? KEYS_HELP);
    return EXIT_OK;
  }
  try {
    await command(rest, { io, dataDir });
  } catch (err) {
    // Point a usage error found past parsing (a bad policy value, a bad name) at this command.
    if (err instanceof UsageError && err.command === null) throw new UsageError(err.message, `keys ${name}`);
    throw err;
  }
  return EXIT_OK;
}

// --- commands -----------------------------------------------------------------------------------

async function create(args: string[], ctx: Context): Promise<void> {
  const { values } = parse('create', args, 0, {
    ...COMMON,
    ...POLICY_OPTIONS,
    name: { type: 'string' },
    admin: { type: 'boolean' },
  });
  if (values.name === undefined) throw new UsageError('--name is required.', 'keys create');
  const policy = validatePolicy(applyPolicyChange({}, policyChangeFrom(values)));
  const store = resolveStore(values['data-dir'], ctx);
  const { dataDir } = store;
  const { key, secret, fresh } = await withKeyAdmin(store, { create: true }, async (admin, created) => ({
    ...(await admin.create({ name: values.name ?? '', role: values.admin ? 'admin' : 'user', policy })),
    fresh: created,
  }));
  const { io } = ctx;
  if (fresh) {
    io.err(
      `Note: there was no database in ${dataDir}, so a new one was made. Start the server with ` +
        `DATA_DIR=${dataDir} to use this key.\n`,
    );
  }
  if (values.json) {
    io.err('The secret is shown this once and will not be shown again: store it now.\n');
    io.out(json({ key: keyJson(key), secret }));
    return;
  }
  io.out(
    [
      `Created ${key.role === 'admin' ? 'admin ' : ''}key "${key.name}".`,
      '',
      `    ${secret}`,
      '',
      'This secret will not be shown again: store it now. Send it as the x-api-key header.',
      '',
      keyDetails(key),
    ].join('\n'),
  );
}

async function list(args: string[], ctx: Context): Promise<void> {
  const { values } = parse('list', args, 0, { ...COMMON, all: { type: 'boolean' } });
  const keys = await withKeyAdmin(resolveStore(values['data-dir'], ctx), { create: false }, (admin) =>
    admin.list(),
  );
  const shown = values.all ? keys : keys.filter((k) => k.revokedAt === null);
  if (values.json) {
    ctx.io.out(json({ keys: shown.map(keyJson) }));
  } else if (shown.length === 0) {
    ctx.io.out(values.all ? 'No keys.\n' : 'No active keys (--all shows revoked ones too).\n');
  } else {
    ctx.io.out(keyTable(shown));
  }
}

async function show(args: string[], ctx: Context): Promise<void> {
  const { values, positionals } = parse('show', args, 1, COMMON);
  const idOrPrefix = keyArg(positionals, 'show');
  const key = await withKeyAdmin(resolveStore(values['data-dir'], ctx), { create: false }, (admin) =>
    admin.find(idOrPrefix),
  );
  ctx.io.out(values.json ? json(keyJson(key)) : keyDetails(key));
}

async function revoke(args: string[], ctx: Context): Promise<void> {
  const { values, positionals } = parse('revoke', args, 1, COMMON);
  const idOrPrefix = keyArg(positionals, 'revoke');
  const { before, after } = await withKeyAdmin(
    resolveStore(values['data-dir'], ctx),
    { create: false },
    async (admin) => {
      const found = await admin.find(idOrPrefix);
      return { before: found, after: await admin.revoke(found.id) };
    },
  );
  if (values.json) {
    ctx.io.out(json(keyJson(after)));
  } else if (before.revokedAt !== null) {
    ctx.io.out(
      `Key "${after.name}" (${after.id}) was already revoked at ${isoOrNull(after.revokedAt) ?? '-'}.\n`,
    );
  } else {
    ctx.io.out(
      `Revoked key "${after.name}" (${after.id}, ${after.prefix}…) at ${isoOrNull(after.revokedAt) ?? '-'}. ` +
        'The server refuses it from its next request on.\n',
    );
  }
}

async function rename(args: string[], ctx: Context): Promise<void> {
  const { values, positionals } = parse('rename', args, 2, COMMON);
  const idOrPrefix = keyArg(positionals, 'rename');
  const name = positionals[1] ?? '';
  const { before, after } = await withKeyAdmin(
    resolveStore(values['data-dir'], ctx),
    { create: false },
    async (admin) => {
      const found = await admin.find(idOrPrefix);
      return { before: found, after: await admin.update(found.id, { name }) };
    },
  );
  ctx.io.out(
    values.json
      ? json(keyJson(after))
      : `Renamed key ${after.id} from "${before.name}" to "${after.name}".\n`,
  );
}

async function policy(args: string[], ctx: Context): Promise<void> {
  const { values, positionals } = parse('policy', args, 1, {
    ...COMMON,
    ...POLICY_OPTIONS,
    unset: { type: 'string', multiple: true },
  });
  const idOrPrefix = keyArg(positionals, 'policy');
  const change = policyChangeFrom(values, values.unset ?? []);
  if (isEmptyChange(change)) {
    throw new UsageError(
      'Nothing to change: give policy flags, --policy or --unset (see "keys show" for the current policy).',
      'keys policy',
    );
  }
  const key = await withKeyAdmin(resolveStore(values['data-dir'], ctx), { create: false }, async (admin) => {
    const found = await admin.find(idOrPrefix);
    return admin.update(found.id, { policy: validatePolicy(applyPolicyChange(found.policy, change)) });
  });
  ctx.io.out(
    values.json
      ? json(keyJson(key))
      : `Policy of key "${key.name}" (${key.id}):\n${policyLines(key.policy)
          .map((l) => `  ${l}\n`)
          .join('')}`,
  );
}

// --- helpers ------------------------------------------------------------------------------------

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** parseArgs, strict, with exactly `count` positionals; its errors become usage errors. */
function parse<O extends NonNullable<Options>>(command: string, args: string[], count: number, options: O) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Node's text goes on about positionals after `--`; the first sentence is the point.
    const unknown = (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION';
    throw new UsageError(unknown ? `${message.split('. ')[0] ?? message}.` : message, `keys ${command}`);
  }
  const { positionals } = parsed;
  if (positionals.length !== count) {
    const usage = (COMMAND_HELP[command] ?? '').split('\n')[0] ?? '';
    throw new UsageError(
      positionals.length < count
        ? `Missing argument. ${usage}`
        : `Unexpected argument "${positionals[count] ?? ''}". ${usage}`,
      `keys ${command}`,
    );
  }
  return parsed;
}

/** The `<id|prefix>` argument, checked before the store is opened. */
function keyArg(positionals: string[], command: string): string {
  const value = (positionals[0] ?? '').trim();
  if (value === '') throw new UsageError('The key id or prefix is empty.', `keys ${command}`);
  return value;
}

/**
 * The server's store: PostgreSQL when DATABASE_URL is set (as for the server), else the SQLite
 * database of the data dir.
 */
function resolveStore(flag: string | undefined, ctx: Context): StoreLocation {
  const databaseUrl = ctx.io.env.DATABASE_URL?.trim() || null;
  return { dataDir: resolveDataDir(flag, ctx), databaseUrl };
}

function resolveDataDir(flag: string | undefined, ctx: Context): string {
  const given = flag ?? ctx.dataDir;
  if (given !== undefined) {
    if (given.trim() === '') throw new UsageError('--data-dir is empty.', 'keys');
    return path.resolve(given);
  }
  // Only DATA_DIR: the server's other settings do not concern this tool, and a bad one (while
  // the server is down for it, say) must not keep the operator from managing keys.
  try {
    return loadConfig({ DATA_DIR: ctx.io.env.DATA_DIR }).dataDir;
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new CliFailure(
        `${err.message}\n(the data dir is read from this configuration; or pass --data-dir)`,
      );
    }
    throw err;
  }
}

/**
 * Opens the server's store, runs `fn` with a KeyAdmin on it, and closes it. Without `create`, a
 * data dir that has no database is an error (most likely a wrong --data-dir).
 * The domain's errors become the tool's: an unknown key fails (1), bad input is a usage error (2).
 */
async function withKeyAdmin<T>(
  store: StoreLocation,
  options: { create: boolean },
  fn: (admin: KeyAdmin, created: boolean) => Promise<T>,
): Promise<T> {
  let opened: Awaited<ReturnType<typeof openKeyAdmin>>;
  try {
    opened = await openKeyAdmin(store, options);
  } catch (err) {
    if (err instanceof StartupError) throw new CliFailure(err.message);
    throw err;
  }
  try {
    return await fn(opened.admin, opened.created);
  } catch (err) {
    if (err instanceof ApiError) {
      if (err.code === 'INVALID_REQUEST') throw new UsageError(err.message);
      throw new CliFailure(err.message);
    }
    throw err;
  } finally {
    await opened.close();
  }
}

/** For main.ts: the help to point at after a usage error. */
export function helpHint(command: string | null): string {
  return `Run "${PROG} ${command ?? 'keys'} --help" for usage.`;
}
