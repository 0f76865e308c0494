/**
 * The Managed Agents API (Anthropic's, beta) under `/v1`, beside the seed's `/api/v1`, so the
 * official SDKs work with `baseURL` set to this server (docs/managed-agents.md). Same keys
 * (`x-api-key` or `Authorization: Bearer`), same sessions, caps and rate limits; errors in
 * Anthropic's format. `anthropic-version` and `anthropic-beta` are accepted whatever they say
 * (or when absent): this server has one version of the API.
 */
import type { FastifyInstance } from 'fastify';
import { managedFeatureRefused } from '../../domain/error-situations.js';
import type { AppDeps } from '../app-deps.js';
import { registerAuth } from '../plugins/auth.js';
import { registerPlacement } from '../plugins/placement.js';
import { registerAnthropicErrors } from './anthropic-errors.js';
import { registerAgentRoutes } from './routes-agents.js';
import { registerFileRoutes } from './routes-files.js';
import { registerSessionRoutes } from './routes-sessions.js';

export const MANAGED_AGENTS_PREFIX = '/v1';

/** Parts of the hosted API that cannot mean anything on a self-hosted Claude Code. */
const REFUSED: Array<{ path: string; feature: string; why: string }> = [
  {
    path: '/sessions/:id/threads',
    feature: 'session threads (multi-agent)',
    why: 'a session here is one Claude Code agent.',
  },
  {
    path: '/memory_stores',
    feature: 'memory stores',
    why: 'Claude Code keeps its memory in the session’s own workspace here.',
  },
  { path: '/vaults', feature: 'vaults', why: 'credentials come from the server’s own configuration.' },
  { path: '/deployments', feature: 'deployments', why: 'this server runs sessions, not deployments.' },
  {
    path: '/deployment_runs',
    feature: 'deployment runs',
    why: 'this server runs sessions, not deployments.',
  },
  {
    path: '/skills',
    feature: 'skills',
    why: 'Anthropic-hosted skills do not exist on a self-hosted Claude Code.',
  },
  {
    path: '/environments/:id/work',
    feature: 'self-hosted environment work',
    why: 'this server is the environment.',
  },
];

export async function registerManagedAgents(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await app.register(
    async (v1) => {
      v1.addHook('onRoute', (route) => {
        const access = route.config as { public?: boolean; scope?: string } | undefined;
        if (!access?.public && !access?.scope) {
          throw new Error(`route ${route.method} ${route.url} declares no access (public or scope)`);
        }
      });
      registerAuth(v1, deps.keys, deps.rateLimits);
      // Several instances: what needs a session's Claude Code process goes to its owner, as on
      // /api/v1 (routes marked `owner`); lists and streams are served anywhere.
      registerPlacement(v1, deps.placement, deps.settings.instanceUrl ?? '');
      registerAnthropicErrors(v1, deps.settings.bodyLimitBytes);
      registerAgentRoutes(v1, deps);
      registerSessionRoutes(v1, deps);
      await registerFileRoutes(v1, deps);
      for (const { path, feature, why } of REFUSED) {
        const refuse = async () => {
          throw managedFeatureRefused(feature, why);
        };
        v1.all(path, { config: { scope: 'read' } }, refuse);
        v1.all(`${path}/*`, { config: { scope: 'read' } }, refuse);
      }
    },
    { prefix: MANAGED_AGENTS_PREFIX },
  );
}
