/** Calendar arithmetic the domain needs, in UTC. */
export const DAY_MS = 24 * 60 * 60 * 1000;

/** The start of the UTC day that holds `ms`. */
export function utcDayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}
