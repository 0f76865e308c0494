import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InMemorySessionStore } from '@anthropic-ai/claude-agent-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localTranscript, parseTranscript, withLegacyImport } from './legacy-transcripts.js';

const SESSION = '0b6f1c2e-5f7a-4d2b-9c1e-3a4b5c6d7e8f';
const KEY = { projectKey: '-srv-app', sessionId: SESSION };

describe('legacy transcripts', () => {
  let configDir: string;
  beforeEach(() => {
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-legacy-'));
  });
  afterEach(() => fs.rmSync(configDir, { recursive: true, force: true }));

  function writeLocal(lines: string[]): string {
    const dir = path.join(configDir, 'projects', '-srv-app');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${SESSION}.jsonl`);
    fs.writeFileSync(file, lines.join('\n'));
    return file;
  }

  it('finds a session’s local file in any project folder', () => {
    expect(localTranscript(configDir, SESSION)).toBeNull();
    const file = writeLocal(['{"uuid":"a"}']);
    expect(localTranscript(configDir, SESSION)).toBe(file);
    expect(localTranscript(path.join(configDir, 'nowhere'), SESSION)).toBeNull();
  });

  it('parses one entry per line and skips a torn last line', () => {
    expect(parseTranscript('{"uuid":"a"}\n\n{"uuid":"b"}\n{"uuid":')).toEqual([{ uuid: 'a' }, { uuid: 'b' }]);
  });

  it('imports a session found only in the local files the first time it is loaded, then loads from the store', async () => {
    writeLocal(['{"type":"user","uuid":"a"}', '{"type":"assistant","uuid":"b"}']);
    const store = new InMemorySessionStore();
    const wrapped = withLegacyImport(store, configDir);
    expect(await wrapped.load(KEY)).toEqual([
      { type: 'user', uuid: 'a' },
      { type: 'assistant', uuid: 'b' },
    ]);
    // It is in the store now: the local file is no longer needed.
    fs.rmSync(path.join(configDir, 'projects'), { recursive: true });
    expect(await store.load(KEY)).toHaveLength(2);
    expect(await wrapped.load(KEY)).toHaveLength(2);
  });

  it('leaves a stored session and an unknown one as the store has them', async () => {
    writeLocal(['{"uuid":"local"}']);
    const store = new InMemorySessionStore();
    await store.append(KEY, [{ type: 'user', uuid: 'stored' }]);
    const wrapped = withLegacyImport(store, configDir);
    expect(await wrapped.load(KEY)).toEqual([{ type: 'user', uuid: 'stored' }]);
    expect(await wrapped.load({ ...KEY, sessionId: 'another' })).toBeNull();
  });
});
