import { describe, expect, it } from 'vitest';
import { buildChildEnv } from './child-env.js';

const CONFIG_DIR = '/var/lib/ccr/claude';

describe('buildChildEnv', () => {
  const source = {
    PATH: '/opt/bin:/usr/bin',
    HOME: '/home/svc',
    LANG: 'C.UTF-8',
    HTTPS_PROXY: 'http://proxy:3128',
    ANTHROPIC_API_KEY: 'sk-ant-x',
    ANTHROPIC_BASE_URL: 'http://127.0.0.1:9999',
    CLAUDE_CODE_MAX_RETRIES: '0',
    CLAUDE_CODE_USE_BEDROCK: '1',
    DISABLE_PROMPT_CACHING: '1',
    API_TIMEOUT_MS: '60000',
    // The server's own secrets and anything else.
    API_KEYS: 'ccr_a,ccr_b',
    ADMIN_API_KEY: 'ccr_admin',
    DATABASE_URL: 'postgres://u:p@db/ccr',
    REDIS_URL: 'redis://:p@cache:6379',
    AWS_SECRET_ACCESS_KEY: 'aws',
    NODE_OPTIONS: '--inspect',
    PORT: '3050',
    DATA_DIR: '/var/lib/ccr',
    MY_ANTHROPIC_TOKEN: 'not-a-prefix-match',
    CLAUDE_CONFIG_DIR: '/home/svc/.claude',
  };
  const env = buildChildEnv({ source, claudeConfigDir: CONFIG_DIR });

  it('passes the basics and Claude Code’s own settings', () => {
    expect(env).toMatchObject({
      PATH: '/opt/bin:/usr/bin',
      HOME: '/home/svc',
      LANG: 'C.UTF-8',
      HTTPS_PROXY: 'http://proxy:3128',
      ANTHROPIC_API_KEY: 'sk-ant-x',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9999',
      CLAUDE_CODE_MAX_RETRIES: '0',
      CLAUDE_CODE_USE_BEDROCK: '1',
      DISABLE_PROMPT_CACHING: '1',
      API_TIMEOUT_MS: '60000',
    });
  });

  it('never passes the server’s secrets or anything not on the list', () => {
    for (const name of [
      'API_KEYS',
      'ADMIN_API_KEY',
      'DATABASE_URL',
      'REDIS_URL',
      'AWS_SECRET_ACCESS_KEY',
      'NODE_OPTIONS',
      'PORT',
      'DATA_DIR',
      'MY_ANTHROPIC_TOKEN',
    ]) {
      expect(env, name).not.toHaveProperty(name);
    }
    const values = Object.values(env).join('\n');
    for (const secret of ['ccr_a', 'ccr_admin', 'postgres://', 'redis://'])
      expect(values).not.toContain(secret);
  });

  it('is exactly the allowed variables plus our defaults', () => {
    expect(Object.keys(env).sort()).toEqual(
      [
        'PATH',
        'HOME',
        'LANG',
        'HTTPS_PROXY',
        'ANTHROPIC_API_KEY',
        'ANTHROPIC_BASE_URL',
        'CLAUDE_CODE_MAX_RETRIES',
        'CLAUDE_CODE_USE_BEDROCK',
        'DISABLE_PROMPT_CACHING',
        'API_TIMEOUT_MS',
        'DISABLE_AUTOUPDATER',
        'DISABLE_TELEMETRY',
        'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC',
        'CLAUDE_CODE_DISABLE_CRON',
        'CLAUDE_CONFIG_DIR',
      ].sort(),
    );
  });

  it('sets CLAUDE_CONFIG_DIR to ours, whatever the environment says', () => {
    expect(env.CLAUDE_CONFIG_DIR).toBe(CONFIG_DIR);
  });

  it('adds server defaults an operator may override', () => {
    expect(env).toMatchObject({
      DISABLE_AUTOUPDATER: '1',
      DISABLE_TELEMETRY: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      CLAUDE_CODE_DISABLE_CRON: '1',
    });
    const overridden = buildChildEnv({
      source: { DISABLE_TELEMETRY: '0', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '0' },
      claudeConfigDir: CONFIG_DIR,
    });
    expect(overridden).toMatchObject({
      DISABLE_TELEMETRY: '0',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '0',
    });
  });

  it('gives a PATH when the environment has none, and skips undefined values', () => {
    const bare = buildChildEnv({ source: { HOME: undefined }, claudeConfigDir: CONFIG_DIR });
    expect(bare.PATH).toBe('/usr/local/bin:/usr/bin:/bin');
    expect(bare).not.toHaveProperty('HOME');
  });
});
