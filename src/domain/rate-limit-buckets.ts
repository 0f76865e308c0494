/**
 * The one table of the per-key rate-limit buckets (hourly). The config's variables, the key
 * policy's `rateLimits` fields, their CLI flags and the documentation all come from it.
 */
export const RATE_LIMIT_BUCKETS = {
  sessions: {
    env: 'RATE_LIMIT_SESSIONS_PER_HOUR',
    default: 10,
    max: 1_000_000,
    perHour: 'sessions created per hour',
    spentBy: '`POST /sessions`',
  },
  messages: {
    env: 'RATE_LIMIT_MESSAGES_PER_HOUR',
    default: 100,
    max: 1_000_000,
    perHour: 'messages sent per hour',
    spentBy: '`POST …/messages` and `POST …/stream`',
  },
  events: {
    env: 'RATE_LIMIT_EVENTS_PER_HOUR',
    default: 1000,
    max: 100_000_000,
    perHour: 'SSE events delivered per hour',
    spentBy: 'each SSE event delivered (pings and deltas are free)',
  },
} as const;

export type RateLimitBucket = keyof typeof RATE_LIMIT_BUCKETS;
export const RATE_LIMIT_BUCKET_NAMES = Object.keys(RATE_LIMIT_BUCKETS) as RateLimitBucket[];
