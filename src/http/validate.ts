/**
 * Request validation with zod: a failure is INVALID_REQUEST and `details.issues` names each
 * bad field, unknown fields included.
 */
import type { z } from 'zod';
import { ApiError } from '../domain/errors.js';

export interface FieldIssue {
  field: string;
  message: string;
}

export function issuesOf(error: z.ZodError): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ field: base ? `${base}.${key}` : key, message: 'unknown field' });
      }
    } else {
      out.push({ field: base || '(body)', message: issue.message });
    }
  }
  return out;
}

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = issuesOf(result.error);
  const summary = issues.map((i) => `${i.field}: ${i.message}`).join('; ');
  throw new ApiError('INVALID_REQUEST', `Invalid ${what}: ${summary}`, { issues });
}
