// The single error handler: known errors answer with their stable code; validation errors answer 400;
// a JSON body or value that the database cannot store (NUL) answers 400;
// the database or object store being away answers 503 with Retry-After; anything else is a 500 whose
// details stay in the log.
import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { DatabaseUnavailableError } from '../../storage/db/sql.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Error code answered when this route's schema validation fails (default VALIDATION_FAILED). */
    validationCode?: string;
  }
}

/** An Ajv error (Fastify's validation) or a TypeBox `Value.Errors` entry: both carry these. */
interface SchemaError {
  instancePath: string;
  params: unknown;
}

/** The failing field as the domain validators name theirs (`lines[0].grossKg`); a property the schema does not
 * allow, or one it requires and did not get, is named itself (Ajv's `additionalProperty` / `missingProperty`,
 * TypeBox's `requiredProperties`; TypeBox already puts a property it does not allow in the path). */
export function fieldOf(e: SchemaError | undefined): string {
  if (!e) return '';
  const p = (e.params ?? {}) as { additionalProperty?: string; missingProperty?: string; requiredProperties?: string[] };
  const parts = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const extra = p.additionalProperty ?? p.missingProperty ?? p.requiredProperties?.[0];
  if (extra !== undefined) parts.push(extra);
  return parts.reduce((f, s) => (/^\d+$/.test(s) ? `${f}[${s}]` : f ? `${f}.${s}` : s), '');
}

/** Whether any string of a parsed JSON value, key or value, holds U+0000. */
export function holdsNul(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('\u0000');
  if (Array.isArray(v)) return v.some(holdsNul);
  if (v && typeof v === 'object') return Object.entries(v).some(([k, x]) => k.includes('\u0000') || holdsNul(x));
  return false;
}

/**
 * Fastify's own JSON parser (prototype-poisoning checks included), refusing a body with U+0000 in any string with
 * 400 BODY_INVALID: PostgreSQL can store such a string neither as text nor as JSONB, so it would otherwise fail as a
 * 500 wherever it reached the database (a login name, a decision's reason, a declaration line).
 */
function jsonWithoutNul(app: FastifyInstance) {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    parse(req, body as string, (err: Error | null, value?: unknown) => {
      if (err) return done(err);
      // an escaped NUL is the only way into a JSON string: look further only when the text has one
      if (/\\u0000/i.test(body as string) && holdsNul(value)) {
        return done(Object.assign(new Error('a string in the body holds NUL (U+0000), which cannot be stored'), { statusCode: 400, code: 'BODY_INVALID' }));
      }
      done(null, value);
    });
  });
}

export default fp(async function errorsPlugin(app: FastifyInstance) {
  jsonWithoutNul(app);
  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    if (err instanceof ApiError) {
      if (err.statusCode === 503) void reply.header('retry-after', '5');
      return reply.status(err.statusCode).send({ code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) });
    }
    if (err instanceof DatabaseUnavailableError) {
      req.log.warn({ err: err.message }, 'database unavailable');
      return reply.status(503).header('retry-after', '5').send({ code: 'SERVICE_UNAVAILABLE', message: 'the database is unavailable; retry later' });
    }
    const fe = err as FastifyError;
    // PostgreSQL refuses text holding NUL (22021) and JSON holding \u0000 (22P05): the client's value, not a fault
    // here. Bodies are refused before this (jsonWithoutNul); a query string or a multipart field may still get here.
    if (fe.code === '22021' || fe.code === '22P05') {
      req.log.warn({ sqlstate: fe.code }, 'a value the database cannot store');
      return reply.status(400).send({ code: 'TEXT_INVALID', message: 'a value holds a character that cannot be stored (NUL, U+0000)' });
    }
    if (fe.validation) {
      const code = req.routeOptions.config?.validationCode ?? 'VALIDATION_FAILED';
      const field = fieldOf(fe.validation[0]);
      return reply.status(400).send({ code, message: fe.message, ...(field ? { details: { field } } : {}) });
    }
    if (fe.code === 'FST_REQ_FILE_TOO_LARGE' || fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fe.statusCode === 413) {
      return reply.status(413).send({ code: 'PAYLOAD_TOO_LARGE', message: 'the upload exceeds the size limit' });
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || fe.code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
      return reply.status(415).send({ code: 'UNSUPPORTED_MEDIA_TYPE', message: fe.message });
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return reply.status(400).send({ code: 'BODY_INVALID', message: 'the body is not valid JSON' });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send({ code: fe.code ?? 'BAD_REQUEST', message: fe.message });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ code: 'INTERNAL', message: 'internal error' });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }));
});
