import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('has defaults for everything', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3050,
      host: '127.0.0.1',
      dataDir: path.resolve('./data'),
      logLevel: 'info',
      logFormat: 'auto',
      apiKeys: [],
      bodyLimitBytes: 1024 * 1024,
      maxLiveSessions: 64,
      maxLiveProcesses: 16,
      sessionIdleExpiryMs: 7 * 24 * 3_600_000,
      sessionParkAfterMs: 600_000,
      turnTimeoutMaxMs: 1_800_000,
      ssePingIntervalMs: 15_000,
      sseRetryMs: 3000,
      defaultModel: null,
      defaultPermissionMode: 'default',
      claudeSettingSources: [],
      claudeCodeExecutable: null,
      claudeCodeStderrLog: false,
      trustProxy: false,
      policyDefaults: {
        rateLimits: { sessions: 10, messages: 100, events: 1000 },
        permissionModes: ['default', 'acceptEdits', 'plan'],
        workspaceRoots: [],
      },
    });
    // The seed's retired model ids are mapped by default.
    expect(config.modelMap['claude-3-opus-20240229']).toBe('opus');
    expect(config.modelMap['claude-3-5-haiku-20241022']).toBe('haiku');
  });

  it('reads and converts every kind of value', () => {
    const config = loadConfig({
      PORT: '8080',
      API_KEYS: ' a , b,,c ',
      RATE_LIMIT_SESSIONS_PER_HOUR: '3',
      SESSION_IDLE_EXPIRY_SECONDS: '120',
      ALLOWED_PERMISSION_MODES: 'plan,bypassPermissions',
      DEFAULT_PERMISSION_MODE: 'plan',
      WORKSPACE_ROOTS: '/srv/a, /srv/b/',
      TRUST_PROXY: 'yes',
      CLAUDE_CODE_STDERR_LOG: '1',
      DEFAULT_MODEL: 'sonnet',
    });
    expect(config).toMatchObject({
      port: 8080,
      apiKeys: ['a', 'b', 'c'],
      sessionIdleExpiryMs: 120_000,
      defaultPermissionMode: 'plan',
      trustProxy: true,
      claudeCodeStderrLog: true,
      defaultModel: 'sonnet',
      policyDefaults: {
        rateLimits: { sessions: 3, messages: 100, events: 1000 },
        permissionModes: ['plan', 'bypassPermissions'],
        workspaceRoots: ['/srv/a', '/srv/b'],
      },
    });
  });

  it('treats empty and blank values as unset', () => {
    const config = loadConfig({
      PORT: '',
      HOST: '  ',
      DEFAULT_MODEL: '',
      API_KEYS: '',
      ALLOWED_PERMISSION_MODES: ' ',
    });
    expect(config).toMatchObject({
      port: 3050,
      host: '127.0.0.1',
      defaultModel: null,
      apiKeys: [],
      policyDefaults: { permissionModes: ['default', 'acceptEdits', 'plan'] },
    });
  });

  it('lists every schema problem at once', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      MAX_LIVE_SESSIONS: '0',
      TRUST_PROXY: 'maybe',
      ALLOWED_PERMISSION_MODES: 'default,yolo',
    });
    expect(problems).toHaveLength(5);
    for (const name of [
      'PORT',
      'LOG_LEVEL',
      'MAX_LIVE_SESSIONS',
      'TRUST_PROXY',
      'ALLOWED_PERMISSION_MODES',
    ]) {
      expect(problems.some((p) => p.startsWith(name))).toBe(true);
    }
  });

  it('the error message lists the problems, one a line', () => {
    try {
      loadConfig({ PORT: '-1', SSE_RETRY_MS: '1' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(
        /^Invalid configuration:\n {2}- PORT: .+\n {2}- SSE_RETRY_MS: .+$/,
      );
    }
  });

  it('refuses workspace roots that overlap the data directory, either way', () => {
    const problems = problemsOf({
      DATA_DIR: '/srv/ccr/data',
      WORKSPACE_ROOTS: '/srv/ccr,/srv/ccr/data/x,/home/work',
    });
    expect(problems).toHaveLength(2);
    expect(problems.every((p) => p.startsWith('WORKSPACE_ROOTS:') && p.includes('overlaps DATA_DIR'))).toBe(
      true,
    );
  });

  // Every problem at once, also the checks across variables.
  it('lists schema problems and the later checks together', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      WORKSPACE_ROOTS: 'relative/dir',
      DEFAULT_PERMISSION_MODE: 'bypassPermissions',
    });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'DEFAULT_PERMISSION_MODE',
      'PORT',
      'WORKSPACE_ROOTS',
    ]);
  });

  describe('MODEL_MAP', () => {
    it('parses from=to pairs, trimming spaces', () => {
      expect(loadConfig({ MODEL_MAP: ' old-a = opus ,old-b=claude-x=1 ,' }).modelMap).toEqual({
        'old-a': 'opus',
        'old-b': 'claude-x=1',
      });
    });

    it('empty turns the mapping off (unlike other variables, where empty means unset)', () => {
      expect(loadConfig({ MODEL_MAP: '' }).modelMap).toEqual({});
    });

    it.each(['noequals', '=opus', 'old='])('refuses the pair %j', (pair) => {
      const problems = problemsOf({ MODEL_MAP: `fine=opus,${pair}` });
      expect(problems).toEqual([expect.stringMatching(new RegExp(`^MODEL_MAP: .*"${pair}"`))]);
    });
  });

  describe('WORKSPACE_ROOTS', () => {
    it('must be absolute paths; each relative one is named', () => {
      const problems = problemsOf({ WORKSPACE_ROOTS: '/ok,rel/a,./b' });
      expect(problems).toEqual([
        'WORKSPACE_ROOTS: "rel/a" is not an absolute path',
        'WORKSPACE_ROOTS: "./b" is not an absolute path',
      ]);
    });

    it('are normalised', () => {
      expect(loadConfig({ WORKSPACE_ROOTS: '/srv/x/../y/' }).policyDefaults.workspaceRoots).toEqual([
        '/srv/y',
      ]);
    });
  });

  describe('DEFAULT_PERMISSION_MODE', () => {
    it('must be one of the allowed modes', () => {
      expect(problemsOf({ DEFAULT_PERMISSION_MODE: 'bypassPermissions' })).toEqual([
        expect.stringMatching(
          /^DEFAULT_PERMISSION_MODE: "bypassPermissions" is not in ALLOWED_PERMISSION_MODES/,
        ),
      ]);
      expect(
        problemsOf({ ALLOWED_PERMISSION_MODES: 'plan', DEFAULT_PERMISSION_MODE: 'default' }),
      ).toHaveLength(1);
    });

    it('is reported together with a relative workspace root', () => {
      const problems = problemsOf({ DEFAULT_PERMISSION_MODE: 'bypassPermissions', WORKSPACE_ROOTS: 'rel' });
      expect(problems).toHaveLength(2);
    });

    it('must be a known mode', () => {
      expect(problemsOf({ DEFAULT_PERMISSION_MODE: 'yolo' })).toEqual([
        expect.stringMatching(/^DEFAULT_PERMISSION_MODE: /),
      ]);
    });
  });

  it('keeps the whole environment as the source of Claude Code’s own variables', () => {
    const env = { ANTHROPIC_API_KEY: 'sk-x', PATH: '/bin' };
    expect(loadConfig(env).agentEnvSource).toBe(env);
  });

  it('bounds numbers', () => {
    expect(problemsOf({ SESSION_IDLE_EXPIRY_SECONDS: '59' })).toHaveLength(1);
    expect(problemsOf({ BODY_LIMIT_BYTES: '1023' })).toHaveLength(1);
    expect(problemsOf({ TURN_TIMEOUT_MAX_MS: '1.5' })).toHaveLength(1);
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
  });

  it('takes extra sandbox read paths, absolute and apart from DATA_DIR', () => {
    expect(loadConfig({ SANDBOX_EXTRA_READ_PATHS: '/srv/tools, /nix/store/' }).sandboxExtraReadPaths).toEqual(
      ['/srv/tools', '/nix/store'],
    );
    expect(loadConfig({}).sandboxExtraReadPaths).toEqual([]);
    const problems = problemsOf({
      DATA_DIR: '/srv/ccr/data',
      SANDBOX_EXTRA_READ_PATHS: 'tools,/srv/ccr,/srv/ccr/data/workspaces,/srv/other',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^SANDBOX_EXTRA_READ_PATHS: "tools" is not an absolute path/),
      expect.stringMatching(/^SANDBOX_EXTRA_READ_PATHS: "\/srv\/ccr" overlaps DATA_DIR/),
      expect.stringMatching(/^SANDBOX_EXTRA_READ_PATHS: "\/srv\/ccr\/data\/workspaces" overlaps DATA_DIR/),
    ]);
  });

  describe('several instances', () => {
    it('without DATABASE_URL: SQLite, no Redis, no instance URL', () => {
      expect(loadConfig({})).toMatchObject({
        databaseUrl: null,
        redisUrl: null,
        redisKeyPrefix: 'ccr:',
        instanceUrl: null,
        instanceLeaseMs: 15_000,
      });
    });

    it('with DATABASE_URL: the instance URL defaults to HOST and PORT (the host name for 0.0.0.0)', () => {
      const db = 'postgres://u:p@db:5432/ccr';
      expect(loadConfig({ DATABASE_URL: db, PORT: '4000' })).toMatchObject({
        databaseUrl: db,
        instanceUrl: 'http://127.0.0.1:4000',
      });
      expect(loadConfig({ DATABASE_URL: db, HOST: '0.0.0.0' }).instanceUrl).toMatch(/^http:\/\/.+:3050$/);
      const given = loadConfig({
        DATABASE_URL: db,
        REDIS_URL: 'rediss://cache:6380',
        REDIS_KEY_PREFIX: 'team-a:',
        INSTANCE_URL: 'http://10.0.0.11:3050',
        INSTANCE_LEASE_MS: '5000',
      });
      expect(given).toMatchObject({
        redisUrl: 'rediss://cache:6380',
        redisKeyPrefix: 'team-a:',
        instanceUrl: 'http://10.0.0.11:3050',
        instanceLeaseMs: 5000,
      });
    });

    it('refuses URLs of the wrong kind, an instance URL without a database, and PORT 0 without one', () => {
      const problems = problemsOf({
        DATABASE_URL: 'mysql://db/ccr',
        REDIS_URL: 'http://cache',
        INSTANCE_LEASE_MS: '10',
      });
      expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
        'DATABASE_URL',
        'INSTANCE_LEASE_MS',
        'REDIS_URL',
      ]);
      expect(problemsOf({ INSTANCE_URL: 'http://10.0.0.11:3050' })).toEqual([
        'INSTANCE_URL: only means something with DATABASE_URL (instances share a PostgreSQL database)',
      ]);
      expect(problemsOf({ DATABASE_URL: 'postgres://db/ccr', PORT: '0' })[0]).toMatch(
        /^INSTANCE_URL: needed/,
      );
    });
  });
});
