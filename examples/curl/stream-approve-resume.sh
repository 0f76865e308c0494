#!/usr/bin/env bash
# Streams a turn, answers its approval, and resumes the stream after a dropped connection.
# bash, curl and jq. Run against a server:
#   CLAUDE_CODE_REST_URL=http://127.0.0.1:3050 CLAUDE_CODE_REST_KEY=ccr_… bash stream-approve-resume.sh "Create hello.py"
set -euo pipefail
B="${CLAUDE_CODE_REST_URL:-http://127.0.0.1:3050}/api/v1"
AUTH="x-api-key: ${CLAUDE_CODE_REST_KEY:-}"
PROMPT="${1:-Create hello.py that prints hello}"

api() { curl -sf -X "$1" "$B$2" -H "$AUTH" -H 'content-type: application/json' ${3:+-d "$3"}; }

SID=$(api POST /sessions '{"permissionMode":"default"}' | jq -r .sessionId)
echo "session: $SID"

LAST= TURN= ANSWERED=
# One event (EVENT, ID, DATA are set): show it; answer an approval. Returns 1 to stop reading.
on_event() {
  if [ -n "$ID" ]; then LAST=$ID; fi
  if [ -z "$TURN" ]; then TURN=$(jq -r '.messageId // .turnId // empty' <<<"$DATA"); fi
  case $EVENT in
    message)
      jq -r '.role as $role | .summary[]
        | if .type == "tool_use" then "tool: \(.name)"
          elif .type == "text" and $role == "assistant" then "assistant: \(.text)"
          else empty end' <<<"$DATA" ;;
    permission_request)
      # 2. Answer it: allow this one call.
      api POST "/sessions/$SID/permissions/$(jq -r .requestId <<<"$DATA")" '{"decision":"allow"}' >/dev/null
      echo "approval: $(jq -r .toolName <<<"$DATA") -> allow"
      ANSWERED=1 ;;
    permission_resolved) if [ -n "$ANSWERED" ] && [ -z "$RESUMED" ]; then return 1; fi ;;
    complete) jq -r '"complete: \(.response) ($\(.costUsd))"' <<<"$DATA"; return 1 ;;
    error) jq -r '"error: \(.code) \(.message)"' <<<"$DATA"; return 1 ;;
  esac
}

# Reads Server-Sent Events from stdin (`: ping` comments and `retry:` skipped) until on_event says stop.
read_events() {
  local line
  EVENT=message ID= DATA=
  while IFS= read -r line; do
    case $line in
      'id: '*) ID=${line#id: } ;;
      'event: '*) EVENT=${line#event: } ;;
      'data: '*) DATA+=${line#data: } ;;
      '')
        if [ -n "$DATA" ] && ! on_event; then return 0; fi
        EVENT=message ID= DATA= ;;
    esac
  done
}

# 1. Start the turn and stream it until its approval is answered.
RESUMED=
read_events < <(exec curl -sN -X POST "$B/sessions/$SID/stream" -H "$AUTH" \
  -H 'content-type: application/json' -H 'accept: text/event-stream' \
  -d "$(jq -n --arg prompt "$PROMPT" '{prompt: $prompt}')")
# 3. The connection drops (here on purpose); the turn goes on on the server.
kill "${!:-}" 2>/dev/null || true
echo "dropped the stream after event $LAST"

# 4. Resume that turn's stream after the last event seen: nothing is missed or repeated.
RESUMED=1
echo "resumed after $LAST"
read_events < <(exec curl -sN "$B/sessions/$SID/stream?messageId=$TURN" -H "$AUTH" \
  -H 'accept: text/event-stream' -H "Last-Event-ID: $LAST")

api DELETE "/sessions/$SID" >/dev/null
echo 'ended'
