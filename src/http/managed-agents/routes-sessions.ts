/**
 * `/v1/sessions` and their resources and events. A `/v1` session is a seed session: creating one
 * spends the key's `sessions` bucket and counts against its caps; a `user.message` is a turn.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalidField, managedFeatureRefused, rateLimitExceeded } from '../../domain/error-situations.js';
import type { SentEvent } from '../../domain/managed-agents/sessions.js';
import type { AppDeps } from '../app-deps.js';
import { keyOf } from '../plugins/auth.js';
import { setRateLimitHeaders } from '../plugins/errors.js';
import { SseStream } from '../sse.js';
import { parseOrThrow } from '../validate.js';
import { anthropicErrorBody } from './anthropic-errors.js';
import { DELTA_TYPES, type DeltaType } from './event-deltas.js';
import { streamManagedEvents } from './event-stream.js';
import { ApiError } from '../../domain/errors.js';
import { LogView, parsePosition, type ManagedEvent } from './event-view.js';
import {
  createdAtBounds,
  idParams,
  listParam,
  pageQuery,
  resourceAddBody,
  resourceParams,
  sendEventsBody,
  sessionCreateBody,
  sessionUpdateBody,
} from './schemas.js';
import { offsetOf, pageTokens } from '../../domain/managed-agents/records.js';

/** How many log events one `events.list` reads at most (the view is built from the whole log). */
const LIST_READ_CAP = 100_000;

export function registerSessionRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { sessions } = deps.managed;

  app.post('/sessions', { config: { scope: 'write', rateLimitBucket: 'sessions' } }, async (request) => {
    const body = parseOrThrow(sessionCreateBody, request.body, 'session');
    return sessions.create(keyOf(request), {
      ...body,
      initial_events: body.initial_events as SentEvent[] | undefined,
    });
  });

  app.get('/sessions', { config: { scope: 'read' } }, async (request) => {
    const query = request.query as Record<string, unknown>;
    const q = parseOrThrow(pageQuery, query, 'query');
    const bounds = createdAtBounds(query);
    for (const refused of ['deployment_id', 'memory_store_id']) {
      if (query[refused] !== undefined) {
        throw managedFeatureRefused(
          `filtering by ${refused}`,
          'deployments and memory stores do not exist here.',
        );
      }
    }
    const agentVersion = query.agent_version === undefined ? undefined : Number(query.agent_version);
    return sessions.list(keyOf(request), {
      limit: q.limit,
      page: q.page,
      includeArchived: q.include_archived === 'true',
      order: q.order,
      agentId: query.agent_id === undefined ? undefined : String(query.agent_id),
      agentVersion,
      statuses: listParam(query, 'statuses'),
      createdAfter: bounds.after,
      createdBefore: bounds.before,
    });
  });

  app.get('/sessions/:id', { config: { scope: 'read' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    return sessions.get(keyOf(request), id);
  });
  app.post('/sessions/:id', { config: { scope: 'write' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    return sessions.update(keyOf(request), id, parseOrThrow(sessionUpdateBody, request.body, 'session'));
  });
  // Ending a session stops its Claude Code: on the instance that runs it (once ended, anywhere).
  app.post('/sessions/:id/archive', { config: { scope: 'write', owner: 'if-live' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    return sessions.archive(keyOf(request), id);
  });
  app.delete('/sessions/:id', { config: { scope: 'write', owner: 'if-live' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    return sessions.delete(keyOf(request), id);
  });

  // --- resources ---------------------------------------------------------------------------
  app.get('/sessions/:id/resources', { config: { scope: 'read' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    const q = parseOrThrow(pageQuery, request.query, 'query');
    return sessions.listResources(keyOf(request), id, q);
  });
  app.post('/sessions/:id/resources', { config: { scope: 'write', owner: 'if-live' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    return sessions.addResource(keyOf(request), id, parseOrThrow(resourceAddBody, request.body, 'resource'));
  });
  app.get('/sessions/:id/resources/:resourceId', { config: { scope: 'read' } }, async (request) => {
    const { id, resourceId } = parseOrThrow(resourceParams, request.params, 'path');
    return sessions.getResource(keyOf(request), id, resourceId);
  });
  app.post('/sessions/:id/resources/:resourceId', { config: { scope: 'write' } }, async () => {
    throw managedFeatureRefused(
      'updating a resource (authorization_token)',
      "a repository's token is used once, for its clone when the session is created.",
    );
  });
  app.delete(
    '/sessions/:id/resources/:resourceId',
    { config: { scope: 'write', owner: 'if-live' } },
    async (request) => {
      const { id, resourceId } = parseOrThrow(resourceParams, request.params, 'path');
      return sessions.deleteResource(keyOf(request), id, resourceId);
    },
  );

  // --- events ------------------------------------------------------------------------------
  // A turn, an interrupt, a tool confirmation: the session's process, so its owner's business.
  app.post('/sessions/:id/events', { config: { scope: 'write', owner: 'if-live' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    const body = parseOrThrow(sendEventsBody, request.body, 'events');
    return { data: await sessions.send(keyOf(request), id, body.events as SentEvent[]) };
  });

  app.get('/sessions/:id/events', { config: { scope: 'read' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    const query = request.query as Record<string, unknown>;
    const q = parseOrThrow(pageQuery, query, 'query');
    const types = listParam(query, 'types');
    const bounds = createdAtBounds(query);
    const key = keyOf(request);
    await sessions.assertReadable(key, id);
    const all: ManagedEvent[] = [];
    const view = new LogView();
    for (let after = 0; all.length < LIST_READ_CAP;) {
      const batch = await deps.events.list(id, after, 500);
      for (const logEvent of batch) {
        for (const { event } of view.next(logEvent)) {
          if (types && !types.includes(event.type)) continue;
          const at = Date.parse(event.processed_at);
          const a = bounds.after;
          if (a && (a.inclusive ? at < a.at : at <= a.at)) continue;
          const b = bounds.before;
          if (b && (b.inclusive ? at > b.at : at >= b.at)) continue;
          all.push(event);
        }
      }
      if (batch.length < 500) break;
      after = batch[batch.length - 1]?.seq ?? after;
    }
    if (q.order === 'desc') all.reverse();
    const offset = offsetOf(q.page);
    const data = all.slice(offset, offset + q.limit);
    return { data, ...pageTokens(offset, data.length, q.limit, all.length) };
  });

  app.get(
    '/sessions/:id/events/stream',
    { config: { scope: 'read', rateLimitBucket: 'events' } },
    async (request, reply) => openStream(request, reply, deps),
  );
}

async function openStream(request: FastifyRequest, reply: FastifyReply, deps: AppDeps): Promise<void> {
  const { id } = parseOrThrow(idParams, request.params, 'path');
  const query = request.query as Record<string, unknown>;
  const deltas = new Set<DeltaType>();
  for (const type of listParam(query, 'event_deltas') ?? []) {
    if (!(DELTA_TYPES as readonly string[]).includes(type)) {
      throw invalidField(
        `event_deltas takes ${DELTA_TYPES.join(' and ')}; "${type}" has no previews.`,
        'event_deltas',
        'enum',
      );
    }
    deltas.add(type as DeltaType);
  }
  const key = keyOf(request);
  await deps.managed.sessions.assertReadable(key, id);
  const raw = request.headers['last-event-id'];
  const given = Array.isArray(raw) ? raw[0] : raw;
  let after: { seq: number; part: number };
  if (given !== undefined && given.trim() !== '') {
    const parsed = parsePosition(given);
    if (!parsed) {
      throw invalidField(
        'Last-Event-ID must be the id: of an event of this stream.',
        'Last-Event-ID',
        'seq.part',
      );
    }
    after = parsed;
  } else {
    // No cursor: what happens from now on (the store's head: another instance may run the session).
    after = { seq: await deps.events.storedHead(id), part: Number.MAX_SAFE_INTEGER };
  }
  const budget = await deps.rateLimits.peek(key, 'events');
  setRateLimitHeaders(reply, budget);
  if (budget.remaining <= 0) throw rateLimitExceeded(budget, deps.clock.now());
  const slot = deps.streams.reserve(key.id, deps.policies.of(key).maxOpenStreams);
  try {
    reply.header('request-id', request.id);
    reply.hijack();
    const sse = new SseStream(reply.raw, {
      pingIntervalMs: deps.settings.ssePingIntervalMs,
      retryMs: deps.settings.sseRetryMs,
      maxEventBytes: 0,
      stallTimeoutMs: deps.settings.sseStallTimeoutMs,
      headers: reply.getHeaders() as Record<string, string | number | string[]>,
      // The server's own notices (its shutdown) in Anthropic's error shape, as the SDK reads them.
      formatNotice: (notice) =>
        JSON.stringify(anthropicErrorBody(ApiError.fromBody(notice.data), request.id)),
    });
    slot.bind(sse);
    await streamManagedEvents(sse, id, after, {
      events: deps.events,
      rateLimits: deps.rateLimits,
      key,
      now: () => deps.clock.now(),
      sessionLive: () => deps.managed.sessions.isLive(key, id),
      keyStillValid: () => deps.keys.isStillValid(key.id),
      deltas,
    }).catch((err: unknown) => request.log.error({ err }, 'managed event stream failed'));
  } finally {
    slot.release();
  }
}
