import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { credentialsStatus, LOGIN_FILE } from './credentials.js';

describe('credentialsStatus', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-creds-'));
  afterEach(() => fs.rmSync(path.join(dir, LOGIN_FILE), { force: true }));

  it('is missing with nothing configured, or only empty values and switched-off providers', () => {
    expect(credentialsStatus({}, dir)).toBe('missing');
    expect(
      credentialsStatus(
        { ANTHROPIC_API_KEY: '', ANTHROPIC_BASE_URL: 'http://x', CLAUDE_CODE_USE_BEDROCK: '0' },
        dir,
      ),
    ).toBe('missing');
  });

  it.each([
    ['ANTHROPIC_API_KEY', 'sk-ant-x'],
    ['ANTHROPIC_AUTH_TOKEN', 'token'],
    ['CLAUDE_CODE_OAUTH_TOKEN', 'token'],
    ['CLAUDE_CODE_USE_BEDROCK', '1'],
    ['CLAUDE_CODE_USE_VERTEX', 'true'],
  ])('is configured with %s', (name, value) => {
    expect(credentialsStatus({ [name]: value }, dir)).toBe('configured');
  });

  it("is configured by Claude Code's own login in its config dir", () => {
    fs.writeFileSync(path.join(dir, LOGIN_FILE), '{}');
    expect(credentialsStatus({}, dir)).toBe('configured');
  });
});
