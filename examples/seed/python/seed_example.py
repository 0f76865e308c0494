# Seed client example: Python, copied VERBATIM from the user's document "Claude Code REST API Examples" (docs/seed/claude-code-rest-api-examples.md),
# section "Python". CI runs it against the real server from test/clients/seed-examples.test.ts.
#
# Edits to the seed's code, and only these:
#   1. Appended the last line, `if __name__ == '__main__': claude_code_example()`: the seed
#      defines the function but never calls it, so running the file as written would do nothing.
#   2. `API_BASE` is `os.environ.get('CLAUDE_API_BASE', '<the seed's URL>')`, so the environment
#      names the server, as it already does the key (CLAUDE_API_KEY, the seed's own).
#
# Not an edit: the test runs a copy in a temp dir with CLAUDE_API_BASE (the test server, as
# `localhost:<port>`) and CLAUDE_API_KEY set, runs it with Debian's /usr/bin/python3 (which has
# `requests` from python3-requests) and puts this folder on PYTHONPATH so that `import sseclient`
# finds sseclient.py beside this file, a stand-in for the sseclient-py package (see its header).
# Everything below the marker line is the seed's text, byte for byte (trailing spaces included);
# seed-examples.test.ts checks it.
# ---- seed example below ----
import requests
import json
import sseclient
import os

API_BASE = os.environ.get('CLAUDE_API_BASE', 'http://localhost:3050/api/v1')
API_KEY = os.environ.get('CLAUDE_API_KEY')

def claude_code_example():
    headers = {'x-api-key': API_KEY}
    
    # 1. Create a session
    session_response = requests.post(f'{API_BASE}/sessions', 
        headers=headers,
        json={
            'model': 'claude-3-opus-20240229',
            'permissionMode': 'default',
            'maxTurns': 10
        })
    
    session_id = session_response.json()['sessionId']
    print(f'Session created: {session_id}')
    
    # 2. Send a non-streaming message
    message_response = requests.post(f'{API_BASE}/sessions/{session_id}/messages',
        headers=headers,
        json={
            'prompt': 'Hello! What can you help me with?',
            'stream': False
        })
    
    print(f'Response: {message_response.json()["response"]}')
    
    # 3. Stream a response
    # Connect to SSE stream with POST
    response = requests.post(f'{API_BASE}/sessions/{session_id}/stream',
        headers={
            'Accept': 'text/event-stream',
            'Content-Type': 'application/json',
            **headers
        },
        json={
            'prompt': 'Write a Python hello world program',
            'timeout': 60000
        },
        stream=True)
    
    client = sseclient.SSEClient(response)
    
    for event in client.events():
        if event.event == 'message':
            data = json.loads(event.data)
            print(f'Stream message: {data}')
        elif event.event == 'complete':
            data = json.loads(event.data)
            print(f'Stream complete: {data}')
            break
    
    # 4. End session
    requests.delete(f'{API_BASE}/sessions/{session_id}', headers=headers)
    print('Session ended')
if __name__ == '__main__': claude_code_example()
