/** The contract's error envelope, used by every error path (JSON responses and the error handler). */
import type { ErrorBody } from '../domain/errors.js';

export interface ErrorEnvelope {
  error: ErrorBody;
  timestamp: string;
  requestId: string;
}

export function envelope(error: ErrorBody, requestId: string, now: number = Date.now()): ErrorEnvelope {
  return { error, timestamp: new Date(now).toISOString(), requestId };
}
