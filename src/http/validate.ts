/**
 * Request validation with zod: a failure is INVALID_REQUEST and `details.issues` names each
 * bad field, unknown fields included (the one formatter, `issuesOf`).
 */
import type { z } from 'zod';
import { invalidFields, issuesOf } from '../domain/error-situations.js';

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalidFields(what, issuesOf(result.error));
}
