/**
 * `GET /usage`: what the calling key used, per session and in total, since a time (default: the
 * start of today, UTC), with today's spending against the key's daily budget. Figures are Claude
 * Code's own (tokens and its cost estimate in USD) of finished turns.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { spentSince } from '../../domain/spending.js';
import { utcDayStart } from '../../domain/time.js';
import { addUsage, ZERO_USAGE, type SessionUsage, type TokenUsage } from '../../domain/types.js';
import type { AppDeps } from '../app-deps.js';
import { keyOf } from '../plugins/auth.js';
import { parseOrThrow } from '../validate.js';

const usageQuery = z.strictObject({
  since: z.iso
    .datetime({ offset: true })
    .or(z.iso.date())
    .optional()
    .transform((v) => (v === undefined ? undefined : Date.parse(v))),
});

function sum(rows: SessionUsage[]): { turns: number; usage: TokenUsage; costUsd: number } {
  const usage = { ...ZERO_USAGE };
  let costUsd = 0;
  let turns = 0;
  for (const row of rows) {
    turns += row.turns;
    costUsd += row.costUsd;
    addUsage(usage, row.usage);
  }
  return { turns, usage, costUsd: round(costUsd) };
}

const round = (usd: number): number => Math.round(usd * 1e6) / 1e6;

export function registerUsageRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { store, clock, policies } = deps;

  app.get('/usage', { config: { scope: 'read' } }, async (request) => {
    const key = keyOf(request);
    const query = parseOrThrow(usageQuery, request.query, 'query');
    const today = utcDayStart(clock.now());
    const since = query.since ?? today;
    const rows = await store.keyUsage(key.id, since);
    const total = sum(rows);
    const spentToday = since === today ? total.costUsd : round(await spentSince(store, key.id, today));
    const budget = policies.of(key).dailyBudgetUsd;
    return {
      key: { id: key.id, name: key.name, prefix: key.prefix },
      since: new Date(since).toISOString(),
      total,
      today: {
        date: new Date(today).toISOString().slice(0, 10),
        costUsd: spentToday,
        dailyBudgetUsd: budget,
        remainingUsd: budget === null ? null : round(Math.max(0, budget - spentToday)),
      },
      sessions: rows.map((row) => ({ ...row, costUsd: round(row.costUsd) })),
      ...(deps.settings.costsSimulated ? { costSimulated: true } : {}),
    };
  });
}
