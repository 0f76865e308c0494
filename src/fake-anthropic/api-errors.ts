/**
 * The Anthropic API's error vocabulary: HTTP status <-> `error.type`, and the JSON error body.
 * Claude Code reads both the status and `error.type` (they end up in the SDK result as
 * `api_error_status` / `api_error_type`), so the fake must pair them the way the real API does.
 */

export const ANTHROPIC_ERROR_TYPES = [
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'rate_limit_error',
  'api_error',
  'overloaded_error',
] as const;

export type AnthropicErrorType = (typeof ANTHROPIC_ERROR_TYPES)[number];

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

const TYPE_BY_STATUS: ReadonlyMap<number, AnthropicErrorType> = new Map([
  [400, 'invalid_request_error'],
  [401, 'authentication_error'],
  [403, 'permission_error'],
  [404, 'not_found_error'],
  [413, 'request_too_large'],
  [429, 'rate_limit_error'],
  [500, 'api_error'],
  [529, 'overloaded_error'],
]);

const STATUS_BY_TYPE: ReadonlyMap<string, number> = new Map(
  [...TYPE_BY_STATUS].map(([status, type]) => [type, status] as const),
);

/** Messages say "fake" so nobody mistakes a scripted failure for a real outage. */
const MESSAGE_BY_TYPE: Readonly<Record<AnthropicErrorType, string>> = {
  invalid_request_error: 'fake: invalid request',
  authentication_error: 'fake: invalid x-api-key',
  permission_error: 'fake: permission denied',
  not_found_error: 'fake: not found',
  request_too_large: 'fake: request too large',
  rate_limit_error: 'fake: rate limited',
  api_error: 'fake: internal server error',
  overloaded_error: 'Overloaded',
};

/** Unknown 4xx statuses behave like a bad request, anything else like a server error. */
export function errorTypeForStatus(status: number): AnthropicErrorType {
  const known = TYPE_BY_STATUS.get(status);
  if (known) return known;
  return status >= 400 && status < 500 ? 'invalid_request_error' : 'api_error';
}

/** Used when an error type must become an HTTP status (e.g. an SSE error replayed non-streaming). */
export function statusForErrorType(type: string): number {
  return STATUS_BY_TYPE.get(type) ?? 500;
}

export function isAnthropicErrorType(value: string): value is AnthropicErrorType {
  return (ANTHROPIC_ERROR_TYPES as readonly string[]).includes(value);
}

export function defaultErrorMessage(type: string): string {
  return isAnthropicErrorType(type) ? MESSAGE_BY_TYPE[type] : `fake: ${type}`;
}

export function anthropicErrorBody(
  type: string,
  message: string = defaultErrorMessage(type),
): AnthropicErrorBody {
  return { type: 'error', error: { type, message } };
}
