/**
 * The console's only way to the server: the public `/api/v1` API, same origin, the key in the
 * `x-api-key` header (never in a URL: the server ignores keys in query strings, and URLs end up
 * in logs and history).
 */

export const API_BASE = '/api/v1';

/** An error answer of the API, in the contract's envelope, told the way a person reads it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    /** Seconds until a rate limit opens again (the `Retry-After` header), when the server said. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

/** One sentence (or two) for the screen: what went wrong and, where it helps, what to do. */
export function describeError(err: unknown): string {
  if (!(err instanceof ApiError)) {
    return `The server could not be reached (${err instanceof Error ? err.message : String(err)}).`;
  }
  switch (err.code) {
    case 'INVALID_API_KEY':
    case 'MISSING_API_KEY':
      return 'That API key was not accepted. Check it and sign in again.';
    case 'RATE_LIMIT_EXCEEDED': {
      // The server's message names the bucket and the wait; the clock time is easier to act on.
      const seconds = err.retryAfterSeconds ?? retryFromDetails(err.details);
      const when =
        seconds === null
          ? ''
          : ` You can try again at ${new Date(Date.now() + seconds * 1000).toLocaleTimeString()}.`;
      return `Rate limit reached: ${err.message}${when}`;
    }
    case 'UPSTREAM_UNAVAILABLE':
      return `The model API is unavailable right now: ${err.message}`;
    case 'BUDGET_EXCEEDED':
      return `Budget reached: ${err.message}`;
    default:
      return `${err.message} (${err.code})`;
  }
}

function retryFromDetails(details: Record<string, unknown>): number | null {
  const resetAt = typeof details.resetAt === 'string' ? Date.parse(details.resetAt) : NaN;
  return Number.isFinite(resetAt) ? Math.max(0, Math.ceil((resetAt - Date.now()) / 1000)) : null;
}

export async function errorFrom(res: Response): Promise<ApiError> {
  const retryAfter = Number(res.headers.get('retry-after'));
  let body: { error?: { code?: string; message?: string; details?: Record<string, unknown> } } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // Not the envelope (a proxy's page): the status says enough.
  }
  return new ApiError(
    res.status,
    body.error?.code ?? `HTTP_${res.status}`,
    body.error?.message ?? `The server answered ${res.status} ${res.statusText}.`,
    body.error?.details ?? {},
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
  );
}

export class Api {
  constructor(private readonly key: string) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { 'x-api-key': this.key, ...extra };
  }

  /** A JSON request; an error answer throws an `ApiError`. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(API_BASE + path, {
      method,
      headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw await errorFrom(res);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  /** `GET /sessions/:id/stream` after the event `after` (as `Last-Event-ID`), deltas included. */
  stream(sessionId: string, after: number, signal: AbortSignal): Promise<Response> {
    return fetch(`${API_BASE}/sessions/${encodeURIComponent(sessionId)}/stream?partial=true`, {
      headers: this.headers({ accept: 'text/event-stream', 'last-event-id': String(after) }),
      signal,
    });
  }
}
