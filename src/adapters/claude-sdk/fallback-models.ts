import type { ModelInfo } from '../../domain/ports.js';

/**
 * Used only when Claude Code's own catalogue cannot be read (see ClaudeSdkRunner.listModels).
 * The aliases are what Claude Code resolves itself, so they stay right as models move on.
 */
export const FALLBACK_MODELS: ModelInfo[] = [
  {
    id: 'default',
    name: 'Default (recommended)',
    description: "Claude Code's default model",
    resolvedModel: null,
  },
  { id: 'opus', name: 'Opus', description: 'The most capable model family', resolvedModel: null },
  { id: 'sonnet', name: 'Sonnet', description: 'Balanced speed and capability', resolvedModel: null },
  { id: 'haiku', name: 'Haiku', description: 'The fastest model family', resolvedModel: null },
];
