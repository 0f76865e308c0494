/** Time as the domain needs it: calendar arithmetic in UTC, and the one format times are shown in. */
export const DAY_MS = 24 * 60 * 60 * 1000;

/** The start of the UTC day that holds `ms`. */
export function utcDayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** An epoch-ms time as the API shows it: ISO 8601, UTC. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** `iso`, keeping null (a time that has not happened). */
export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}
