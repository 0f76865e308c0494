/**
 * `claude-code-rest keys …` run as its own process against a temporary data dir: what it
 * prints, what it stores, and how it refuses bad input (exit 2) and unknown keys (exit 1).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/adapters/sqlite/index.js';
import { hashKey } from '../../src/domain/api-keys.js';
import { tempDir } from '../helpers/test-server.js';
import { cli, ok, okJson } from './run-cli.js';

interface KeyJson {
  id: string;
  name: string;
  prefix: string;
  role: 'user' | 'admin';
  policy: Record<string, unknown>;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const SECRET = /ccr_[0-9A-Za-z]{40}/g;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const STACK = /\n\s+at /;

let dataDir: string;
let dd: string[];

beforeAll(() => {
  dataDir = tempDir('cli');
  dd = ['--data-dir', dataDir];
});
afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function createKey(name: string, ...flags: string[]): Promise<{ key: KeyJson; secret: string }> {
  return okJson(['keys', 'create', '--name', name, ...flags, ...dd]);
}

async function storedByHash(secret: string) {
  const store = SqliteStore.open(dataDir);
  try {
    return await store.findKeyByHash(hashKey(secret));
  } finally {
    await store.close();
  }
}

describe('keys create', () => {
  it('prints a ccr_ secret once, says it will not be shown again, and stores only its hash', async () => {
    const res = await ok(['keys', 'create', '--name', 'ci bot', ...dd]);
    const secrets = res.stdout.match(SECRET) ?? [];
    expect(secrets).toHaveLength(1);
    const secret = secrets[0]!;
    expect(res.stdout).toMatch(/will not be shown again/);
    expect(res.stdout).toContain('ci bot');
    expect(res.stdout).toMatch(/\bid\s+key_[0-9A-Za-z]{16}\n/);
    expect(res.stdout).toContain(`prefix     ${secret.slice(0, 12)}\n`);

    const stored = await storedByHash(secret);
    expect(stored).toMatchObject({ name: 'ci bot', role: 'user', prefix: secret.slice(0, 12), policy: {} });
    expect(fs.readFileSync(path.join(dataDir, 'server.db')).includes(secret)).toBe(false);

    // Never again: not in any listing, text or JSON, nor the hash.
    const outputs = await Promise.all([
      ok(['keys', 'list', ...dd]),
      ok(['keys', 'list', '--all', '--json', ...dd]),
      ok(['keys', 'show', stored!.id, ...dd]),
      ok(['keys', 'show', stored!.prefix, '--json', ...dd]),
    ]);
    for (const out of outputs) {
      expect(out.stdout).toContain(stored!.prefix);
      expect(out.stdout + out.stderr).not.toContain(secret);
      expect(out.stdout + out.stderr).not.toContain(stored!.hash);
    }
  });

  it('--json prints { key, secret }; the policy flags all land in the policy; --admin makes an admin', async () => {
    const res = await cli([
      'keys',
      'create',
      '--name',
      'loaded',
      '--admin',
      '--rate-sessions',
      '5',
      '--rate-messages',
      '50',
      '--rate-events',
      '500',
      '--max-sessions',
      '2',
      '--max-running-turns',
      '1',
      '--max-turns',
      '20',
      '--daily-budget',
      '2.5',
      '--permission-modes',
      'default, acceptEdits',
      '--allowed-tools',
      'Read,Write,Bash(npm test:*),Bash(echo a,b)',
      '--workspace-roots',
      '/srv/a,/srv/b',
      '--scopes',
      'read',
      '--json',
      ...dd,
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/will not be shown again/);
    const { key, secret } = JSON.parse(res.stdout) as { key: KeyJson; secret: string };
    expect(secret).toMatch(/^ccr_[0-9A-Za-z]{40}$/);
    expect(key).toEqual({
      id: expect.stringMatching(/^key_/),
      name: 'loaded',
      prefix: secret.slice(0, 12),
      role: 'admin',
      policy: {
        rateLimits: { sessions: 5, messages: 50, events: 500 },
        maxConcurrentSessions: 2,
        maxRunningTurns: 1,
        maxTurns: 20,
        dailyBudgetUsd: 2.5,
        permissionModes: ['default', 'acceptEdits'],
        allowedTools: ['Read', 'Write', 'Bash(npm test:*)', 'Bash(echo a,b)'],
        workspaceRoots: ['/srv/a', '/srv/b'],
        scopes: ['read'],
      },
      createdAt: expect.stringMatching(ISO),
      lastUsedAt: null,
      revokedAt: null,
    });
    expect((await storedByHash(secret))?.policy).toEqual(key.policy);
  });

  it('--policy gives the whole policy as JSON; flags override its fields', async () => {
    const { key } = await createKey(
      'from json',
      '--policy',
      '{"maxTurns":3,"scopes":["read"]}',
      '--max-turns',
      '7',
    );
    expect(key.policy).toEqual({ maxTurns: 7, scopes: ['read'] });
  });

  it('uses DATA_DIR when there is no --data-dir, and takes --data-dir before the command', async () => {
    const { key } = await okJson<{ key: KeyJson }>(['keys', 'create', '--name', 'via env'], {
      DATA_DIR: dataDir,
    });
    const { keys } = await okJson<{ keys: KeyJson[] }>(['keys', '--data-dir', dataDir, 'list']);
    expect(keys.map((k) => k.id)).toContain(key.id);
  });

  it('makes the database when the data dir has none, and says so', async () => {
    const fresh = path.join(tempDir('cli-fresh'), 'nested');
    try {
      const res = await ok(['keys', 'create', '--name', 'first', '--data-dir', fresh]);
      expect(res.stderr).toMatch(/no database .* a new one was made/i);
      expect(fs.existsSync(path.join(fresh, 'server.db'))).toBe(true);
      expect((fs.statSync(fresh).mode & 0o777).toString(8)).toBe('700');
    } finally {
      fs.rmSync(path.dirname(fresh), { recursive: true, force: true });
    }
  });
});

describe('keys list and show', () => {
  it('list: a table of the active keys with their limits; --json the admin API shape', async () => {
    const { key } = await createKey(
      'limited',
      '--rate-sessions',
      '4',
      '--max-turns',
      '12',
      '--daily-budget',
      '$1.25',
      '--permission-modes',
      'plan',
      '--scopes',
      'read',
      '--max-sessions',
      '3',
    );
    const table = (await ok(['keys', 'list', ...dd])).stdout;
    const [header, ...rows] = table.trimEnd().split('\n');
    expect(header).toMatch(/^NAME\s+ID\s+PREFIX\s+ROLE\s+CREATED\s+LAST USED\s+REVOKED\s+LIMITS$/);
    const row = rows.find((r) => r.includes(key.id));
    expect(row).toBeDefined();
    expect(row).toMatch(
      new RegExp(`^limited\\s+${key.id}\\s+${key.prefix}\\s+user\\s+\\S+Z\\s+never\\s+-\\s+`),
    );
    for (const part of ['sessions 4/h', 'open 3', 'maxTurns 12', '$1.25/day', 'modes plan', 'scopes read']) {
      expect(row).toContain(part);
    }

    const { keys } = await okJson<{ keys: KeyJson[] }>(['keys', 'list', ...dd]);
    const listed = keys.find((k) => k.id === key.id);
    expect(listed).toEqual(key);
    for (const k of keys) {
      expect(Object.keys(k).sort()).toEqual([
        'createdAt',
        'id',
        'lastUsedAt',
        'name',
        'policy',
        'prefix',
        'revokedAt',
        'role',
      ]);
    }
  });

  it('show: one key by id or by prefix, every policy field named', async () => {
    const { key } = await createKey('shown', '--max-turns', '9', '--allowed-tools', 'Read,Bash(git log:*)');
    const byPrefix = await ok(['keys', 'show', key.prefix, ...dd]);
    const byId = await ok(['keys', 'show', key.id, ...dd]);
    expect(byPrefix.stdout).toBe(byId.stdout);
    expect(byId.stdout).toMatch(/^name\s+shown$/m);
    expect(byId.stdout).toMatch(new RegExp(`^id\\s+${key.id}$`, 'm'));
    expect(byId.stdout).toMatch(/^revoked\s+no$/m);
    expect(byId.stdout).toMatch(/^last used\s+never$/m);
    expect(byId.stdout).toMatch(/^ {2}maxTurns\s+9$/m);
    expect(byId.stdout).toMatch(/^ {2}allowedTools\s+Read, Bash\(git log:\*\)$/m);
    expect(await okJson<KeyJson>(['keys', 'show', key.prefix, ...dd])).toEqual(key);
  });
});

describe('keys policy', () => {
  it('merges flags into the policy, --unset removes fields, --policy replaces it', async () => {
    const { key } = await createKey('merge', '--max-turns', '5', '--rate-sessions', '3', '--scopes', 'read');

    const merged = await okJson<KeyJson>([
      'keys',
      'policy',
      key.id,
      '--daily-budget',
      '2.5',
      '--rate-messages',
      '7',
      ...dd,
    ]);
    expect(merged.policy).toEqual({
      maxTurns: 5,
      rateLimits: { sessions: 3, messages: 7 },
      scopes: ['read'],
      dailyBudgetUsd: 2.5,
    });

    const unset = await ok([
      'keys',
      'policy',
      key.prefix,
      '--unset',
      'maxTurns',
      '--unset',
      'rate-sessions',
      '--unset',
      'scopes',
      ...dd,
    ]);
    expect(unset.stdout).toMatch(/^ {2}dailyBudgetUsd\s+2\.5 USD per UTC day$/m);
    expect(unset.stdout).not.toContain('maxTurns');
    expect((await okJson<KeyJson>(['keys', 'show', key.id, ...dd])).policy).toEqual({
      rateLimits: { messages: 7 },
      dailyBudgetUsd: 2.5,
    });

    const emptied = await okJson<KeyJson>([
      'keys',
      'policy',
      key.id,
      '--unset',
      'rateLimits.messages',
      ...dd,
    ]);
    expect(emptied.policy).toEqual({ dailyBudgetUsd: 2.5 });

    const replaced = await okJson<KeyJson>([
      'keys',
      'policy',
      key.id,
      '--policy',
      '{"maxTurns":9}',
      '--max-sessions',
      '2',
      ...dd,
    ]);
    expect(replaced.policy).toEqual({ maxTurns: 9, maxConcurrentSessions: 2 });
  });

  it('refuses bad values with exit 2, naming the field and its flag; the policy is unchanged', async () => {
    const { key } = await createKey('strict', '--max-turns', '5');
    const cases: Array<[string[], RegExp]> = [
      [['--max-turns', '0'], /policy\.maxTurns \(--max-turns\): .*>=1/],
      [['--max-turns', 'ten'], /--max-turns: expected a whole number/],
      [['--permission-modes', 'default,yolo'], /policy\.permissionModes\.1 \(--permission-modes\)/],
      [['--daily-budget=-1'], /policy\.dailyBudgetUsd \(--daily-budget\): .*>=0/],
      [
        ['--workspace-roots', '/ok,relative/dir'],
        /policy\.workspaceRoots\.1 \(--workspace-roots\): must be an absolute path/,
      ],
      [['--scopes', 'read,admin'], /policy\.scopes\.1 \(--scopes\)/],
      [['--rate-events', '0'], /policy\.rateLimits\.events \(--rate-events\)/],
      [['--policy', '{"maxTurnz":1}'], /policy\.maxTurnz: unknown field/],
      [['--policy', 'maxTurns=1'], /--policy: not valid JSON/],
      [['--policy', '[1]'], /--policy: expected a JSON object/],
      [['--unset', 'bogus'], /--unset: unknown policy field "bogus"/],
      [['--max-turns', '4', '--unset', 'maxTurns'], /maxTurns is both set .* and unset/],
      [['--allowed-tools', 'Bash(npm test:*'], /unbalanced/],
      [[], /Nothing to change/],
    ];
    const results = await Promise.all(
      cases.map(([flags]) => cli(['keys', 'policy', key.id, ...flags, ...dd])),
    );
    results.forEach((res, i) => {
      const [flags, message] = cases[i]!;
      expect({ flags, code: res.code }).toEqual({ flags, code: 2 });
      expect(res.stderr).toMatch(message);
      expect(res.stderr).toContain('claude-code-rest keys policy --help');
      expect(res.stderr).not.toMatch(STACK);
      expect(res.stdout).toBe('');
    });
    expect((await okJson<KeyJson>(['keys', 'show', key.id, ...dd])).policy).toEqual({ maxTurns: 5 });
  });
});

describe('keys rename and revoke', () => {
  it('rename changes the name; a bad name is exit 2', async () => {
    const { key } = await createKey('before');
    const res = await ok(['keys', 'rename', key.prefix, 'after all', ...dd]);
    expect(res.stdout).toBe(`Renamed key ${key.id} from "before" to "after all".\n`);
    expect((await okJson<KeyJson>(['keys', 'show', key.id, ...dd])).name).toBe('after all');

    const bad = await cli(['keys', 'rename', key.id, 'no;way', ...dd]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/key name is 1 to 100 letters/);
    expect((await okJson<KeyJson>(['keys', 'show', key.id, ...dd])).name).toBe('after all');
  });

  it('revoke: the key leaves the default list, stays in --all; revoking again keeps the first time', async () => {
    const { key } = await createKey('doomed');
    const res = await ok(['keys', 'revoke', key.prefix, ...dd]);
    expect(res.stdout).toMatch(new RegExp(`^Revoked key "doomed" \\(${key.id}, `));

    const shown = await okJson<KeyJson>(['keys', 'show', key.id, ...dd]);
    expect(shown.revokedAt).toMatch(ISO);
    expect((await ok(['keys', 'show', key.id, ...dd])).stdout).toMatch(/^revoked\s+yes, \d{4}-/m);

    const active = await okJson<{ keys: KeyJson[] }>(['keys', 'list', ...dd]);
    expect(active.keys.map((k) => k.id)).not.toContain(key.id);
    expect((await ok(['keys', 'list', ...dd])).stdout).not.toContain(key.id);
    const all = await okJson<{ keys: KeyJson[] }>(['keys', 'list', '--all', ...dd]);
    expect(all.keys.find((k) => k.id === key.id)?.revokedAt).toBe(shown.revokedAt);
    expect((await ok(['keys', 'list', '--all', ...dd])).stdout).toContain(key.id);

    const again = await ok(['keys', 'revoke', key.id, ...dd]);
    expect(again.stdout).toMatch(/already revoked/);
    expect((await okJson<KeyJson>(['keys', 'show', key.id, ...dd])).revokedAt).toBe(shown.revokedAt);
  });
});

describe('errors', () => {
  it('usage errors exit 2 with a message on stderr and no stack trace', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /Usage: claude-code-rest <command>/],
      [['frobnicate'], /Unknown command "frobnicate"/],
      [['keys'], /Usage: claude-code-rest keys <command>/],
      [['keys', 'frobnicate'], /Unknown command "keys frobnicate"/],
      [['keys', 'create', '--rate-sessions', '3'], /--name is required/],
      [['keys', 'create', '--name', 'x', '--max-turns', '0'], /policy\.maxTurns \(--max-turns\)/],
      [['keys', 'create', '--name', 'x', '--bogus'], /Unknown option '--bogus'/],
      [['keys', 'create', '--name'], /argument missing/],
      [['keys', 'create', '--name', 'x', '--max-turns', '1.5'], /--max-turns: expected a whole number/],
      [['keys', 'create', '--name', 'x', '--daily-budget', 'lots'], /--daily-budget: expected an amount/],
      [['keys', 'list', 'extra'], /Unexpected argument "extra"/],
      [['keys', 'show'], /Missing argument/],
      [['keys', 'rename', 'key_only'], /Missing argument/],
      [['keys', 'revoke', 'a', 'b'], /Unexpected argument "b"/],
      [['keys', 'show', ' '], /empty/],
    ];
    // A data dir that does not exist: none of these may get as far as opening one.
    const nowhere = path.join(dataDir, 'nowhere');
    const results = await Promise.all(cases.map(([args]) => cli(args, { DATA_DIR: nowhere })));
    results.forEach((res, i) => {
      const [args, message] = cases[i]!;
      expect({ args, code: res.code }).toEqual({ args, code: 2 });
      expect(res.stderr).toMatch(message);
      expect(res.stderr).not.toMatch(STACK);
      expect(res.stdout).toBe('');
    });
    expect(fs.existsSync(nowhere)).toBe(false);
  });

  it('an unknown key exits 1 on every command that names one', async () => {
    const results = await Promise.all(
      [
        ['show', 'key_doesnotexist'],
        ['revoke', 'key_doesnotexist'],
        ['rename', 'key_doesnotexist', 'x'],
        ['policy', 'key_doesnotexist', '--max-turns', '3'],
        ['show', 'ccr_nothere'],
      ].map((args) => cli(['keys', ...args, ...dd])),
    );
    for (const res of results) {
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(
        /^error: No key (key_doesnotexist|ccr_nothere) \(give a key id or a key's prefix\)\.\n$/,
      );
    }
  });

  it('a data dir without a database exits 1 and makes nothing', async () => {
    const empty = tempDir('cli-empty');
    try {
      const res = await cli(['keys', 'list', '--data-dir', empty]);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`No database at ${path.join(empty, 'server.db')}`);
      expect(fs.readdirSync(empty)).toEqual([]);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('--help', () => {
  it('exists at every level, on stdout, with exit 0', async () => {
    const cases: Array<[string[], string]> = [
      [['--help'], 'Usage: claude-code-rest <command>'],
      [['help'], 'Usage: claude-code-rest <command>'],
      [['keys', '--help'], 'Usage: claude-code-rest keys <command>'],
      [['keys', 'help', 'revoke'], 'Usage: claude-code-rest keys revoke <id|prefix>'],
      [['keys', 'create', '--help'], 'Usage: claude-code-rest keys create --name <name>'],
      [['keys', 'list', '-h'], 'Usage: claude-code-rest keys list'],
      [['keys', 'show', '--help'], 'Usage: claude-code-rest keys show <id|prefix>'],
      [['keys', 'revoke', '--help'], 'Usage: claude-code-rest keys revoke <id|prefix>'],
      [['keys', 'rename', '--help'], 'Usage: claude-code-rest keys rename <id|prefix> <name>'],
      [['keys', 'policy', '--help'], 'Usage: claude-code-rest keys policy <id|prefix>'],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((res, i) => {
      const [args, usage] = cases[i]!;
      expect({ args, code: res.code, stderr: res.stderr }).toEqual({ args, code: 0, stderr: '' });
      expect(res.stdout.startsWith(usage)).toBe(true);
    });
    // The flags' help lists every policy flag.
    for (const flag of [
      '--rate-sessions',
      '--max-running-turns',
      '--daily-budget',
      '--allowed-tools',
      '--policy',
    ]) {
      expect(results[4]!.stdout).toContain(flag);
    }
    expect(results[9]!.stdout).toContain('--unset <field>');
  });
});
