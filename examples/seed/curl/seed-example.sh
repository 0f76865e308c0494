# Seed client example: cURL, copied VERBATIM from the user's document "Claude Code REST API Examples" (docs/seed/claude-code-rest-api-examples.md),
# section "cURL". CI runs it (with bash) against the real server from
# test/clients/seed-examples.test.ts.
#
# Edits to the seed's code, and only these:
#   1. `API_KEY="your-api-key"` became `API_KEY="${CLAUDE_API_KEY:-your-api-key}"`, so the
#      environment supplies the key (the seed's placeholder is kept as the fallback).
#   2. `BASE_URL="http://localhost:3050/api/v1"` became
#      `BASE_URL="${CLAUDE_API_BASE:-http://localhost:3050/api/v1}"`, likewise for the server.
#
# Not an edit: the test runs a copy in a temp dir with CLAUDE_API_BASE (the test server, as
# `localhost:<port>`) and CLAUDE_API_KEY set. Needs curl and jq (scripts/ensure-system-packages.sh).
# Everything below the marker line is the seed's text, byte for byte, but for edits 1 and 2;
# seed-examples.test.ts checks it.
# ---- seed example below ----
# Set variables
API_KEY="${CLAUDE_API_KEY:-your-api-key}"
BASE_URL="${CLAUDE_API_BASE:-http://localhost:3050/api/v1}"

# 1. Create a session
SESSION_ID=$(curl -s -X POST "$BASE_URL/sessions" \
  -H "Content-Type: application/json" \
  -H "x-api-key: $API_KEY" \
  -d '{
    "model": "claude-3-opus-20240229",
    "permissionMode": "default"
  }' | jq -r '.sessionId')

echo "Session ID: $SESSION_ID"

# 2. Send a non-streaming message
curl -X POST "$BASE_URL/sessions/$SESSION_ID/messages" \
  -H "Content-Type: application/json" \
  -H "x-api-key: $API_KEY" \
  -d '{
    "prompt": "Hello! What can you help me with?",
    "stream": false
  }' | jq

# 3. Connect to SSE stream with POST
curl -N -X POST "$BASE_URL/sessions/$SESSION_ID/stream" \
  -H "Accept: text/event-stream" \
  -H "Content-Type: application/json" \
  -H "x-api-key: $API_KEY" \
  -d '{
    "prompt": "Write a Python hello world program",
    "timeout": 60000
  }'

# 4. End session
curl -X DELETE "$BASE_URL/sessions/$SESSION_ID" -H "x-api-key: $API_KEY"
