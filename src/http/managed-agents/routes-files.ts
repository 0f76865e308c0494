/**
 * `/v1/files`: upload (multipart, through @fastify/multipart: Fastify's own multipart parser,
 * streaming with a size cap, rather than a hand-written one), list, metadata, download, delete.
 * A key sees only its own files.
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { fileTooLarge, invalidField } from '../../domain/error-situations.js';
import type { AppDeps } from '../app-deps.js';
import { keyOf } from '../plugins/auth.js';
import { parseOrThrow } from '../validate.js';
import { idParams, pageQuery, refuseFilters } from './schemas.js';

export async function registerFileRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { files } = deps.managed;
  await app.register(multipart, { limits: { fileSize: files.limitBytes, files: 1, fields: 10 } });

  app.post('/files', { config: { scope: 'write' } }, async (request) => {
    if (!request.isMultipart()) {
      throw invalidField('Upload a file as multipart/form-data, in the field "file".', 'file', 'multipart');
    }
    let upload: { filename: string; mimeType: string; bytes: Uint8Array } | null = null;
    let expiresInSeconds: number | undefined;
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || upload) {
          await part.toBuffer().catch(() => undefined);
          throw invalidField('Send one file, in the field "file".', part.fieldname, 'unexpected file');
        }
        const bytes = await part.toBuffer().catch((err: { code?: string }) => {
          if (err.code === 'FST_REQ_FILE_TOO_LARGE') throw fileTooLarge(files.limitBytes);
          throw err;
        });
        upload = {
          filename: part.filename || 'upload',
          mimeType: part.mimetype || 'application/octet-stream',
          bytes,
        };
      } else if (part.fieldname === 'expires_in_seconds') {
        expiresInSeconds = Number(part.value);
      } else {
        throw invalidField(`Unknown field ${part.fieldname}.`, part.fieldname, 'unknown field');
      }
    }
    if (!upload) throw invalidField('The upload has no file (field "file").', 'file', 'required');
    return files.upload(keyOf(request), upload, expiresInSeconds === undefined ? {} : { expiresInSeconds });
  });

  app.get('/files', { config: { scope: 'read' } }, async (request) => {
    refuseFilters(request.query, ['scope_id', 'ids[]', 'ids']);
    const q = parseOrThrow(pageQuery, request.query, 'query');
    return files.list(keyOf(request), { limit: q.limit, page: q.page });
  });
  app.get('/files/:id', { config: { scope: 'read' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    return files.get(keyOf(request), id);
  });
  app.get('/files/:id/content', { config: { scope: 'read' } }, async (request, reply) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    const { view, bytes } = await files.download(keyOf(request), id);
    return reply
      .type(view.mime_type)
      .header('content-disposition', `attachment; filename="${view.filename.replace(/["\\\r\n]/g, '_')}"`)
      .send(Buffer.from(bytes));
  });
  app.delete('/files/:id', { config: { scope: 'write' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    return files.delete(keyOf(request), id);
  });
}
