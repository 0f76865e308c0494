"""Streams a turn, answers its approval, and resumes the stream after a dropped connection.

Python 3 with `requests`. Run against a server:
  CLAUDE_CODE_REST_URL=http://127.0.0.1:3050 CLAUDE_CODE_REST_KEY=ccr_... python3 stream_approve_resume.py "Create hello.py"
"""
import json
import os
import sys

import requests

BASE = os.environ.get("CLAUDE_CODE_REST_URL", "http://127.0.0.1:3050") + "/api/v1"
HEADERS = {"x-api-key": os.environ.get("CLAUDE_CODE_REST_KEY", "")}
PROMPT = sys.argv[1] if len(sys.argv) > 1 else "Create hello.py that prints hello"


def api(method, path, body=None):
    res = requests.request(method, BASE + path, headers=HEADERS, json=body, timeout=60)
    res.raise_for_status()
    return res.json() if res.content else None


def events(res):
    """Yields (id, event, data) for each event of an SSE response (`: ping` comments skipped)."""
    event_id, name, data = None, "message", ""
    for line in res.iter_lines(decode_unicode=True):
        if line == "":
            if data:
                yield event_id, name, json.loads(data)
            event_id, name, data = None, "message", ""
        elif line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data += line[6:]


session_id = api("POST", "/sessions", {"permissionMode": "default"})["sessionId"]
print(f"session: {session_id}", flush=True)

last_id = None
turn_id = None


def show(event_id, name, data):
    global last_id, turn_id
    if event_id:
        last_id = event_id
    turn_id = turn_id or data.get("messageId") or data.get("turnId")
    if name == "message":
        for part in data["summary"]:
            if part["type"] == "text" and data["role"] == "assistant":
                print(f"assistant: {part['text']}", flush=True)
            if part["type"] == "tool_use":
                print(f"tool: {part['name']}", flush=True)


# 1. Start the turn and stream it until it asks for an approval.
stream_headers = {**HEADERS, "accept": "text/event-stream"}
first = requests.post(
    f"{BASE}/sessions/{session_id}/stream", headers=stream_headers, json={"prompt": PROMPT}, stream=True, timeout=120
)
answered = False
for event_id, name, data in events(first):
    show(event_id, name, data)
    if name == "permission_request":
        # 2. Answer it: allow this one call.
        api("POST", f"/sessions/{session_id}/permissions/{data['requestId']}", {"decision": "allow"})
        print(f"approval: {data['toolName']} -> allow", flush=True)
        answered = True
    if (answered and name == "permission_resolved") or name in ("complete", "error"):
        break
# 3. The connection drops (here on purpose); the turn goes on on the server.
first.close()
print(f"dropped the stream after event {last_id}", flush=True)

# 4. Resume that turn's stream after the last event seen: nothing is missed or repeated.
resumed = requests.get(
    f"{BASE}/sessions/{session_id}/stream",
    params={"messageId": turn_id},
    headers={**stream_headers, "last-event-id": last_id},
    stream=True,
    timeout=120,
)
print(f"resumed after {last_id}", flush=True)
for event_id, name, data in events(resumed):
    show(event_id, name, data)
    if name == "complete":
        print(f"complete: {data['response']} (${data['costUsd']})", flush=True)
    if name == "error":
        print(f"error: {data['code']} {data['message']}", flush=True)

api("DELETE", f"/sessions/{session_id}")
print("ended", flush=True)
