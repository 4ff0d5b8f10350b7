// The container register: a box's tare weight by container number, kept by the terminal, the declaration
// source or risk control. The manifest check takes the tare from here when a declaration gives none.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { MAX_TARE_KG } from '../../../domain/declaration/validate-declaration.js';
import { checkContainerNo } from '../../../domain/iso6346.js';
import type { Sql } from '../../../storage/db/sql.js';
import { containersRepo, recordTare } from '../../../storage/repos/containers.js';
import { ApiError, notFound } from '../../errors.js';
import { errorResponses } from '../../schemas.js';

const ContainerView = Type.Object({
  containerNo: Type.String(),
  tareKg: Type.Number(),
  source: Type.Union([Type.String(), Type.Null()], { description: 'where the figure comes from (CSC plate, fleet list, weighed empty)' }),
  updatedBy: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const Params = Type.Object({ containerNo: Type.String({ minLength: 1, maxLength: 20 }) });

/** The path's container number, normalised and check-digit verified (400 CONTAINER_NO_INVALID otherwise). */
function containerNoOf(raw: string): string {
  const check = checkContainerNo(raw);
  if (!check.ok) {
    throw new ApiError(400, 'CONTAINER_NO_INVALID', check.message, {
      field: 'containerNo',
      ...(check.expectedCheckDigit !== undefined && { expectedCheckDigit: check.expectedCheckDigit }),
    });
  }
  return check.containerNo;
}

const containerRoutes: FastifyPluginAsyncTypebox<{ db: Sql }> = async (app, opts) => {
  const containers = containersRepo(opts.db);
  app.get(
    '/v1/containers/:containerNo',
    {
      onRequest: app.requireRole('terminal', 'declaration-source', 'risk-control', 'supervisor', 'admin'),
      schema: {
        summary: "A container's register entry (its tare weight)",
        tags: ['declarations'],
        security: [{ bearer: [] }],
        params: Params,
        response: { 200: ContainerView, ...errorResponses },
      },
    },
    async (req) => {
      const containerNo = containerNoOf(req.params.containerNo);
      const record = await containers.get(containerNo);
      if (!record) throw notFound('CONTAINER_NOT_REGISTERED', `${containerNo} is not in the container register`);
      return record;
    },
  );
  app.put(
    '/v1/containers/:containerNo',
    {
      onRequest: app.requireRole('terminal', 'declaration-source', 'risk-control', 'admin'),
      config: { validationCode: 'WEIGHT_INVALID' },
      schema: {
        summary: "Set a container's tare weight in the register (creates the entry or replaces it)",
        description:
          "The manifest check compares a container's weighbridge reading with tare plus declared gross; a declaration that gives no tare for the container is completed from here.",
        tags: ['declarations'],
        security: [{ bearer: [] }],
        params: Params,
        body: Type.Object(
          {
            tareKg: Type.Number({ exclusiveMinimum: 0, maximum: MAX_TARE_KG, description: `kg, above 0 and at most ${MAX_TARE_KG}` }),
            source: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: ContainerView, 201: ContainerView, ...errorResponses },
      },
    },
    async (req, reply) => {
      const containerNo = containerNoOf(req.params.containerNo);
      const actor = req.principal!.name;
      const { tareKg, source } = req.body;
      const { before, after } = await recordTare(opts.db, { containerNo, tareKg, ...(source && { source }), actor });
      return reply.status(before ? 200 : 201).send(after);
    },
  );
};

export default containerRoutes;
