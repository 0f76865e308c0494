import { afterEach, describe, expect, it } from 'vitest';
import { auth, expectError, rateLimitHeaders, startApp, type Harness } from './harness.js';

const URL = '/api/v1/models';

describe('GET /models', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('200: Claude Code’s catalogue, then the retired ids the server maps', async () => {
    h = await startApp({ MODEL_MAP: 'claude-3-opus-20240229=opus,claude-3-haiku-20240307=haiku' });
    const res = await h.app.inject({ method: 'GET', url: URL, headers: auth() });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      defaultModel: 'default',
      models: [
        {
          id: 'default',
          name: 'Default',
          description: 'The default model',
          resolvedModel: 'claude-sonnet-5-5',
          default: true,
          source: 'claude_code',
        },
        {
          id: 'opus',
          name: 'Opus',
          description: 'Most capable',
          resolvedModel: 'claude-opus-5-5',
          default: false,
          source: 'claude_code',
        },
        {
          id: 'sonnet',
          name: 'Sonnet',
          description: 'Balanced',
          resolvedModel: 'claude-sonnet-5-5',
          default: false,
          source: 'claude_code',
        },
        {
          id: 'claude-3-opus-20240229',
          name: 'claude-3-opus-20240229',
          description: expect.stringContaining('"opus"'),
          resolvedModel: 'opus',
          default: false,
          source: 'model_map',
        },
        {
          id: 'claude-3-haiku-20240307',
          name: 'claude-3-haiku-20240307',
          description: expect.stringContaining('"haiku"'),
          resolvedModel: 'haiku',
          default: false,
          source: 'model_map',
        },
      ],
    });
    expect(rateLimitHeaders(res)).toMatchObject({ limit: 100, remaining: 100 });
  });

  it('200: marks the server’s DEFAULT_MODEL, and lists a mapped id that is also in the catalogue once', async () => {
    h = await startApp({ DEFAULT_MODEL: 'opus', MODEL_MAP: 'opus=sonnet' });
    const body = (await h.app.inject({ method: 'GET', url: URL, headers: auth() })).json();
    expect(body.defaultModel).toBe('opus');
    const models = body.models as Array<{ id: string; default: boolean }>;
    expect(models.filter((m) => m.default).map((m) => m.id)).toEqual(['opus']);
    expect(models.filter((m) => m.id === 'opus')).toHaveLength(1);
  });

  it('200: MODEL_MAP empty lists the catalogue only', async () => {
    h = await startApp({ MODEL_MAP: '' });
    const body = (await h.app.inject({ method: 'GET', url: URL, headers: auth() })).json();
    expect(body.models.map((m: { id: string }) => m.id)).toEqual(['default', 'opus', 'sonnet']);
  });

  it('500 INTERNAL_ERROR: a failure says nothing of its cause', async () => {
    h = await startApp();
    h.runner.listModels = () => Promise.reject(new Error('ENOENT /secret/path/to/claude'));
    const body = expectError(
      await h.app.inject({ method: 'GET', url: URL, headers: auth() }),
      500,
      'INTERNAL_ERROR',
    );
    expect(body.error.details).toEqual({});
    expect(JSON.stringify(body)).not.toContain('secret');
  });
});
