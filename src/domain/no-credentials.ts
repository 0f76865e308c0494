/**
 * A server with no credentials for the model API. Claude Code then makes no request at all and
 * ends every turn with an API error of no HTTP status whose text is "Not logged in · Please run
 * /login" (measured with Claude Code 2.1.330 and no ANTHROPIC_API_KEY), which would otherwise
 * read as "the model API could not be reached, try again later". It is not a passing outage: the
 * turn fails as UPSTREAM_ERROR with `details.reason: "no_credentials"`, and the start-up warning
 * and /health say the same.
 */

/** What to tell whoever runs the server. Names settings only: never a credential's value. */
export const NO_CREDENTIALS_HINT =
  "Claude Code has no credentials for the model API: set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN, or CLAUDE_CODE_USE_BEDROCK / CLAUDE_CODE_USE_VERTEX with that cloud's credentials) in the server's environment and restart it, or try the offline demo (npm run start:offline).";

const NOT_LOGGED_IN = /\bNot logged in\b/i;

/** Whether an upstream failure with this status and text is Claude Code's "no credentials". */
export function isNoCredentialsFailure(upstreamStatus: number | null, text: string): boolean {
  return upstreamStatus === null && NOT_LOGGED_IN.test(text);
}
