// Streams a turn, answers its approval, and resumes the stream after a dropped connection.
// Node 20+, no dependencies. Run against a server:
//   CLAUDE_CODE_REST_URL=http://127.0.0.1:3050 CLAUDE_CODE_REST_KEY=ccr_… node stream-approve-resume.mjs "Create hello.py"
const BASE = `${process.env.CLAUDE_CODE_REST_URL ?? 'http://127.0.0.1:3050'}/api/v1`;
const headers = { 'x-api-key': process.env.CLAUDE_CODE_REST_KEY ?? '', 'content-type': 'application/json' };
const prompt = process.argv[2] ?? 'Create hello.py that prints hello';

async function api(method, path, body) {
  const res = await fetch(`${BASE}${path}`, { method, headers, body: body && JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// Yields { id, event, data } for each event of an SSE response (`: ping` comments skipped).
async function* events(res) {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const e = { id: null, event: 'message', data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) e.id = line.slice(4);
        else if (line.startsWith('event: ')) e.event = line.slice(7);
        else if (line.startsWith('data: ')) e.data += line.slice(6);
      }
      if (e.data) yield { ...e, data: JSON.parse(e.data) };
    }
  }
}

const { sessionId } = await api('POST', '/sessions', { permissionMode: 'default' });
console.log(`session: ${sessionId}`);

let lastId = null;
let turnId = null;
const show = (e) => {
  if (e.id) lastId = e.id;
  turnId ??= e.data.messageId ?? e.data.turnId ?? null;
  if (e.event === 'message') {
    for (const part of e.data.summary) {
      if (part.type === 'text' && e.data.role === 'assistant') console.log(`assistant: ${part.text}`);
      if (part.type === 'tool_use') console.log(`tool: ${part.name}`);
    }
  }
};

// 1. Start the turn and stream it until it asks for an approval.
const abort = new AbortController();
const first = await fetch(`${BASE}/sessions/${sessionId}/stream`, {
  method: 'POST',
  headers: { ...headers, accept: 'text/event-stream' },
  body: JSON.stringify({ prompt }),
  signal: abort.signal,
});
let answered = false;
try {
  for await (const e of events(first)) {
    show(e);
    if (e.event === 'permission_request') {
      // 2. Answer it: allow this one call.
      await api('POST', `/sessions/${sessionId}/permissions/${e.data.requestId}`, { decision: 'allow' });
      console.log(`approval: ${e.data.toolName} -> allow`);
      answered = true;
    }
    if (answered && e.event === 'permission_resolved') break;
    if (e.event === 'complete' || e.event === 'error') break;
  }
} finally {
  // 3. The connection drops (here on purpose); the turn goes on on the server.
  abort.abort();
}
console.log(`dropped the stream after event ${lastId}`);

// 4. Resume that turn's stream after the last event seen: nothing is missed or repeated.
const resumed = await fetch(`${BASE}/sessions/${sessionId}/stream?messageId=${turnId}`, {
  headers: { ...headers, accept: 'text/event-stream', 'last-event-id': lastId },
});
console.log(`resumed after ${lastId}`);
for await (const e of events(resumed)) {
  show(e);
  if (e.event === 'complete') console.log(`complete: ${e.data.response} ($${e.data.costUsd})`);
  if (e.event === 'error') console.log(`error: ${e.data.code} ${e.data.message}`);
}

await api('DELETE', `/sessions/${sessionId}`);
console.log('ended');
