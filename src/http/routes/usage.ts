/**
 * `GET /usage`: what the calling key used, per session and in total, since a time (default: the
 * start of today, UTC), with today's spending against the key's daily budget (UsageReport).
 */
import type { FastifyInstance } from 'fastify';
import { iso } from '../../domain/time.js';
import type { AppDeps } from '../app-deps.js';
import { keyOf } from '../plugins/auth.js';
import { usageQuery } from '../schemas.js';
import { parseOrThrow } from '../validate.js';

export function registerUsageRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/usage', { config: { scope: 'read' } }, async (request) => {
    const query = parseOrThrow(usageQuery, request.query, 'query');
    const report = await deps.usage.of(keyOf(request), query.since);
    return {
      key: report.key,
      since: iso(report.since),
      total: report.total,
      today: {
        date: iso(report.today.dayStart).slice(0, 10),
        costUsd: report.today.costUsd,
        dailyBudgetUsd: report.today.dailyBudgetUsd,
        remainingUsd: report.today.remainingUsd,
      },
      sessions: report.sessions,
      ...(report.costSimulated ? { costSimulated: true } : {}),
    };
  });
}
