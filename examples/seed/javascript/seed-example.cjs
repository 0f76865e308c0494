// Seed client example: JavaScript/Node.js, copied VERBATIM from the user's document "Claude Code REST API Examples" (docs/seed/claude-code-rest-api-examples.md),
// section "JavaScript/Node.js". CI runs it against the real server from test/clients/seed-examples.test.ts.
//
// Edits to the seed's code, and only these:
//   1. Appended the last line, `claudeCodeExample().catch(...)`: the seed defines the function but
//      never calls it, so running the file as written would do nothing.
//   2. `API_BASE` is `process.env.CLAUDE_API_BASE || '<the seed's URL>'`, so the environment names
//      the server, as it already does the key (CLAUDE_API_KEY, the seed's own).
//
// Not an edit: the test runs a copy in a temp dir with CLAUDE_API_BASE (the test server, as
// `localhost:<port>`), CLAUDE_API_KEY and NODE_PATH (the project's node_modules, for axios and
// eventsource). Everything below the marker line is the seed's text,
// byte for byte (trailing spaces included): do not reformat it (keep it out of Prettier's reach);
// seed-examples.test.ts checks it.
// ---- seed example below ----
const axios = require('axios');
const EventSource = require('eventsource');

const API_BASE = process.env.CLAUDE_API_BASE || 'http://localhost:3050/api/v1';
const API_KEY = process.env.CLAUDE_API_KEY;

async function claudeCodeExample() {
  // 1. Create a session
  const sessionResponse = await axios.post(`${API_BASE}/sessions`, {
    model: 'claude-3-opus-20240229',
    permissionMode: 'default',
    maxTurns: 10
  }, {
    headers: { 'x-api-key': API_KEY }
  });

  const sessionId = sessionResponse.data.sessionId;
  console.log('Session created:', sessionId);

  // 2. Send a non-streaming message
  const messageResponse = await axios.post(`${API_BASE}/sessions/${sessionId}/messages`, {
    prompt: 'Hello! What can you help me with?',
    stream: false
  }, {
    headers: { 'x-api-key': API_KEY }
  });

  console.log('Response:', messageResponse.data.response);

  // 3. Stream a response
  // First, create a helper to stream with POST
  const streamResponse = await fetch(`${API_BASE}/sessions/${sessionId}/stream`, {
    method: 'POST',
    headers: { 
      'x-api-key': API_KEY,
      'Content-Type': 'application/json',
      'Accept': 'text/event-stream'
    },
    body: JSON.stringify({
      prompt: 'Write a Python hello world program',
      timeout: 60000
    })
  });

  const reader = streamResponse.body.getReader();
  const decoder = new TextDecoder();

  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    
    const chunk = decoder.decode(value);
    const lines = chunk.split('\n');
    
    for (const line of lines) {
      if (line.startsWith('event: ')) {
        console.log('Event:', line.substring(7));
      } else if (line.startsWith('data: ')) {
        const data = JSON.parse(line.substring(6));
        console.log('Data:', data);
      }
    }
  }

}
claudeCodeExample().catch((e) => { console.error(e); process.exit(1); });
