/**
 * Forwards a request to the instance that runs its session's Claude Code process, and streams
 * that instance's answer back as it comes (an event stream included). The forwarded request
 * carries the client's own key and request id: the owner authenticates and answers it exactly as
 * if the client had asked it directly. It is marked as forwarded, so it is never forwarded again.
 */
import { Readable } from 'node:stream';
import http from 'node:http';
import https from 'node:https';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sessionOwnerDown } from '../domain/error-situations.js';

/** The mark of a forwarded request (its value: the forwarding instance's URL, for the logs). */
export const FORWARDED_HEADER = 'x-ccr-forwarded-from';

/** Hop-by-hop headers (RFC 9110 §7.6.1): each connection has its own. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
];
/** A request's: the hop's, and what its new target and the body's new encoding replace. */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'host', 'content-length']);
/**
 * An answer's: the hop's only. Its bytes are passed on as they are, so its `Content-Length` still
 * holds (a download's size, which a client shows progress with and checks the body against).
 */
const NOT_RETURNED = new Set(HOP_BY_HOP);

/** How long the owner may take to answer the connection before the request fails (503). */
const CONNECT_TIMEOUT_MS = 5000;

function copyHeaders(
  headers: http.IncomingHttpHeaders,
  dropped: ReadonlySet<string>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !dropped.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}

export async function forwardRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  ownerUrl: string,
  selfUrl: string,
  connectTimeoutMs = CONNECT_TIMEOUT_MS,
): Promise<void> {
  const target = new URL(request.url, ownerUrl);
  // An upload's raw body (files API) is a stream, passed on as it comes; any other body is JSON.
  const stream = request.body instanceof Readable ? request.body : null;
  const body =
    stream || request.body === undefined || request.body === null ? null : JSON.stringify(request.body);
  const headers = copyHeaders(request.headers, NOT_FORWARDED);
  headers[FORWARDED_HEADER] = selfUrl;
  headers['x-request-id'] = request.id;
  if (body !== null) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  } else if (stream) {
    headers['content-type'] = request.headers['content-type'] ?? 'application/octet-stream';
    if (request.headers['content-length']) headers['content-length'] = request.headers['content-length'];
  }
  const transport = target.protocol === 'https:' ? https : http;
  const upstream = transport.request(target, { method: request.method, headers });
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const timer = setTimeout(() => upstream.destroy(new Error('connect timeout')), connectTimeoutMs);
    // A kept-alive socket is connected already and never emits 'connect' again: without this
    // check a reused socket's request failed after 5 s however well the owner was answering
    // (a `stream: false` turn takes longer than that).
    upstream.once('socket', (socket) => {
      if (socket.connecting) socket.once('connect', () => clearTimeout(timer));
      else clearTimeout(timer);
    });
    upstream.once('response', (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    upstream.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    if (stream) stream.pipe(upstream);
    else upstream.end(body ?? undefined);
  }).catch((err: unknown) => {
    request.log.warn({ err, owner: ownerUrl }, 'the instance that runs this session did not answer');
    throw sessionOwnerDown();
  });
  // From here the owner's answer is the answer, streamed through as it comes.
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(response.statusCode ?? 502, copyHeaders(response.headers, NOT_RETURNED));
  raw.flushHeaders();
  // A client that goes away closes the forwarded request too (a stream's reader, not its turn).
  raw.once('close', () => {
    if (!response.complete) upstream.destroy();
  });
  response.on('data', (chunk: Buffer) => {
    if (!raw.write(chunk)) {
      response.pause();
      raw.once('drain', () => response.resume());
    }
  });
  await new Promise<void>((resolve) => {
    response.once('end', resolve);
    response.once('error', resolve);
    response.once('close', resolve);
  });
  raw.end();
}
