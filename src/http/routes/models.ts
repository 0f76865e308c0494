/**
 * `GET /models`: Claude Code's own model catalogue (read from the SDK, works offline), plus the
 * retired ids the operator maps to current models (the seed's `claude-3-opus-20240229`).
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';

interface ModelEntry {
  id: string;
  name: string;
  description: string;
  resolvedModel: string | null;
  default: boolean;
  /** `claude_code`: Claude Code's catalogue; `model_map`: an id the operator maps (MODEL_MAP). */
  source: 'claude_code' | 'model_map';
}

export function registerModelRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { runner, settings } = deps;

  app.get('/models', { config: { scope: 'read' } }, async () => {
    const catalogue = await runner.listModels();
    const defaultId = settings.defaultModel ?? 'default';
    const models: ModelEntry[] = catalogue.map((m) => ({
      id: m.id,
      name: m.name,
      description: m.description,
      resolvedModel: m.resolvedModel,
      default: m.id === defaultId,
      source: 'claude_code',
    }));
    for (const [id, target] of Object.entries(settings.modelMap)) {
      if (models.some((m) => m.id === id)) continue;
      models.push({
        id,
        name: id,
        description: `Accepted for compatibility; runs as "${target}" (MODEL_MAP).`,
        resolvedModel: target,
        default: id === defaultId,
        source: 'model_map',
      });
    }
    return { models, defaultModel: defaultId };
  });
}
