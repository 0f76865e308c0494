/**
 * The admin API: key management over HTTP, for admin keys only (`config: { admin: true }`:
 * any other key gets 403 FORBIDDEN before its body is read). The same KeyAdmin as the
 * command-line tool; a key is named by its id, or by its prefix when that is unique.
 * The secret of a new key is in the create response only; the hash is never in any.
 */
import type { FastifyInstance } from 'fastify';
import { invalidField } from '../../domain/error-situations.js';
import { keyJson } from '../../domain/key-admin.js';
import { API_PREFIX } from '../api-prefix.js';
import type { AppDeps } from '../app-deps.js';
import { CreateKeyBody, keyParams, listKeysQuery, UpdateKeyBody } from '../schemas.js';
import { parseOrThrow } from '../validate.js';

export function registerAdminRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { keyAdmin } = deps;
  const admin = { config: { admin: true } };

  app.get('/admin/keys', admin, async (request) => {
    const { include } = parseOrThrow(listKeysQuery, request.query, 'query');
    const keys = await keyAdmin.list();
    return {
      keys: keys.filter((k) => include === 'revoked' || k.revokedAt === null).map(keyJson),
    };
  });

  app.post('/admin/keys', admin, async (request, reply) => {
    const body = parseOrThrow(CreateKeyBody, request.body, 'key');
    const { key, secret } = await keyAdmin.create(body);
    request.log.info({ keyId: key.id, role: key.role }, 'API key created');
    return reply
      .status(201)
      .header('location', `${API_PREFIX}/admin/keys/${key.id}`)
      .header('cache-control', 'no-store')
      .send({ key: keyJson(key), secret });
  });

  app.get('/admin/keys/:id', admin, async (request) => {
    const { id } = parseOrThrow(keyParams, request.params, 'path');
    return keyJson(await keyAdmin.find(id));
  });

  app.patch('/admin/keys/:id', admin, async (request) => {
    const { id } = parseOrThrow(keyParams, request.params, 'path');
    const body = parseOrThrow(UpdateKeyBody, request.body, 'key update');
    // Checked after the schema, so that a body with only an unknown field names just that field.
    if (body.name === undefined && body.policy === undefined) {
      throw invalidField(
        'Invalid key update: give name, policy or both.',
        '(body)',
        'give name, policy or both',
      );
    }
    const key = await keyAdmin.update(id, body);
    request.log.info({ keyId: key.id, fields: Object.keys(body) }, 'API key updated');
    return keyJson(key);
  });

  app.post('/admin/keys/:id/revoke', admin, async (request) => {
    const { id } = parseOrThrow(keyParams, request.params, 'path');
    const key = await keyAdmin.revoke(id);
    request.log.info({ keyId: key.id }, 'API key revoked');
    return keyJson(key);
  });
}
