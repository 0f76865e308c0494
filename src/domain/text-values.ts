/**
 * Parsers of values written as text (environment variables): whole numbers in a range, and
 * comma-separated lists. Shared by the server's configuration and the policy fields' defaults.
 */
import { z } from 'zod';

/** A whole number in [min, max], written as text. */
export const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** `a, b,,c` → ['a', 'b', 'c']. */
export const commaList = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0),
);
