// Declarations (manifest + customs declaration) from declaration sources or risk control. Scans and
// declarations meet by container number or waybill, whichever arrives first.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CREDIT_LEVELS } from '../../../domain/declaration/declaration.js';
import { validateDeclaration } from '../../../domain/declaration/validate-declaration.js';
import type { Queues } from '../../../pipeline/queues.js';
import type { Sql } from '../../../storage/db/sql.js';
import { declarationsRepo } from '../../../storage/repos/declarations.js';
import { scansRepo } from '../../../storage/repos/scans.js';
import { ApiError, notFound } from '../../errors.js';
import { errorResponses } from '../../schemas.js';

// The shape, for clients and the OpenAPI document; the domain validator checks meaning (HS codes exist,
// check digits, weights) and names each failing field with a stable code.
const DeclarationBody = Type.Object({
  declarationId: Type.Optional(Type.String({ maxLength: 64 })),
  containers: Type.Optional(Type.Array(Type.Object({ containerNo: Type.String(), sealNo: Type.Optional(Type.String()), tareKg: Type.Optional(Type.Number()) }), { maxItems: 100 })),
  waybills: Type.Optional(Type.Array(Type.String(), { maxItems: 1000 })),
  lines: Type.Array(
    Type.Object({ hsCode: Type.String({ description: '10 digits; the first 6 must exist in HS 2022' }), description: Type.String(), quantity: Type.Number(), unit: Type.String(), grossKg: Type.Number() }),
    { maxItems: 999 },
  ),
  enterprise: Type.Object({ id: Type.String(), name: Type.Optional(Type.String()), creditLevel: Type.Enum(CREDIT_LEVELS) }),
  perishable: Type.Optional(Type.Boolean()),
  vesselClosingAt: Type.Optional(Type.String({ description: 'ISO 8601 with time zone' })),
  port: Type.Optional(Type.String({ maxLength: 64 })),
});

const DeclarationStored = Type.Object({ declarationId: Type.String(), version: Type.Integer(), linkedScans: Type.Array(Type.String()) });

const declarationRoutes: FastifyPluginAsyncTypebox<{ db: Sql; queues: Queues }> = async (app, opts) => {
  const declarations = declarationsRepo(opts.db);
  const scans = scansRepo(opts.db);

  app.put(
    '/v1/declarations/:declarationId',
    {
      onRequest: app.requireRole('declaration-source', 'risk-control'),
      config: { validationCode: 'DECLARATION_INVALID' },
      schema: {
        summary: 'Create or amend a declaration (manifest + customs declaration)',
        tags: ['declarations'],
        security: [{ bearer: [] }],
        params: Type.Object({ declarationId: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,64}$' }) }),
        body: DeclarationBody,
        response: { 200: DeclarationStored, 201: DeclarationStored, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { declarationId } = req.params;
      if (req.body.declarationId !== undefined && req.body.declarationId !== declarationId) {
        throw new ApiError(400, 'DECLARATION_INVALID', 'declarationId in the body differs from the one in the path', { field: 'declarationId' });
      }
      const check = validateDeclaration({ ...req.body, declarationId });
      if (!check.ok) {
        const first = check.errors[0]!;
        throw new ApiError(400, first.code, first.message, { field: first.field, errors: check.errors });
      }
      const { stored, created, scanIds } = await declarations.upsert(check.declaration, req.principal!.name);
      // Scans that arrived first and wait for this declaration are assessed now.
      for (const scanId of scanIds) {
        const scan = await scans.get(scanId);
        if (scan?.status === 'inferred') await opts.queues.enqueue('assess', scanId).catch(() => {});
      }
      return reply.status(created ? 201 : 200).send({ declarationId, version: stored.version, linkedScans: scanIds });
    },
  );

  app.get(
    '/v1/declarations/:declarationId',
    {
      onRequest: app.requireRole('declaration-source', 'risk-control', 'reviewer', 'supervisor', 'admin'),
      schema: {
        summary: 'A declaration as stored (normalized)',
        tags: ['declarations'],
        security: [{ bearer: [] }],
        params: Type.Object({ declarationId: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.Object({ declaration: Type.Unknown(), version: Type.Integer(), updatedAt: Type.String() }), ...errorResponses },
      },
    },
    async (req) => {
      const d = await declarations.get(req.params.declarationId);
      if (!d) throw notFound('DECLARATION_NOT_FOUND', `no declaration ${req.params.declarationId}`);
      return { declaration: d.declaration, version: d.version, updatedAt: d.updatedAt };
    },
  );
};

export default declarationRoutes;
