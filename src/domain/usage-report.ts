/**
 * What a key used, per session and in total, since a time (default: the start of today, UTC),
 * with today's spending against the key's daily budget. Figures are Claude Code's own (tokens
 * and its cost estimate in USD) of finished turns.
 */
import { addUsage, ZERO_USAGE, type ApiKeyRecord, type SessionUsage } from './types.js';
import type { TokenUsage } from './events.js';
import type { Policies } from './key-policy.js';
import type { Clock } from './ports.js';
import { spentSince } from './spending.js';
import type { Stores } from './stores.js';
import { utcDayStart } from './time.js';

export interface UsageTotals {
  turns: number;
  usage: TokenUsage;
  costUsd: number;
}

export interface UsageReportView {
  key: { id: string; name: string; prefix: string };
  since: number;
  total: UsageTotals;
  today: { dayStart: number; costUsd: number; dailyBudgetUsd: number | null; remainingUsd: number | null };
  sessions: SessionUsage[];
  /** The model API is simulated (the offline demo): the costs are not real. */
  costSimulated: boolean;
}

/** USD to the micro-dollar, as reported. */
const round = (usd: number): number => Math.round(usd * 1e6) / 1e6;

export class UsageReport {
  constructor(
    private readonly deps: {
      stores: Pick<Stores, 'usage'>;
      policies: Policies;
      clock: Clock;
      /** The model API is simulated (COSTS_SIMULATED): the figures say so. */
      costsSimulated: boolean;
    },
  ) {}

  async of(key: ApiKeyRecord, since?: number): Promise<UsageReportView> {
    const { stores, clock, policies } = this.deps;
    const today = utcDayStart(clock.now());
    const from = since ?? today;
    const rows = await stores.usage.keyUsage(key.id, from);
    const total = sum(rows);
    const spentToday = from === today ? total.costUsd : round(await spentSince(stores.usage, key.id, today));
    const budget = policies.of(key).dailyBudgetUsd;
    return {
      key: { id: key.id, name: key.name, prefix: key.prefix },
      since: from,
      total,
      today: {
        dayStart: today,
        costUsd: spentToday,
        dailyBudgetUsd: budget,
        remainingUsd: budget === null ? null : round(Math.max(0, budget - spentToday)),
      },
      sessions: rows.map((row) => ({ ...row, costUsd: round(row.costUsd) })),
      costSimulated: this.deps.costsSimulated,
    };
  }
}

function sum(rows: SessionUsage[]): UsageTotals {
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
