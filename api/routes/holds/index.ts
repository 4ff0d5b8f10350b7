// Lock instructions for supervisors and the terminal: list with history, the terminal's acknowledgement,
// start of inspection, and release or seizure (supervisors only, with a reason). Illegal transitions are
// refused with 409 LOCK_TRANSITION_ILLEGAL (details.reason says why: LOCK_CLOSED for a closed lock).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { LOCK_STATES, type LockEvent, type LockState } from '../../../domain/review/lock-instruction.js';
import type { Sql } from '../../../storage/db/sql.js';
import { holdsRepo, LockTransitionError, type LockEvents } from '../../../storage/repos/holds.js';
import { ApiError, forbidden, notFound } from '../../errors.js';
import { errorResponses } from '../../schemas.js';

export const LockInstructionSchema = Type.Object({
  id: Type.String(),
  scanId: Type.String(),
  containerNo: Type.String(),
  sealNo: Type.Union([Type.String(), Type.Null()]),
  state: Type.Enum(LOCK_STATES),
  reasons: Type.Array(Type.String()),
  requestedBy: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  history: Type.Array(Type.Object({ from: Type.Union([Type.String(), Type.Null()]), to: Type.String(), actor: Type.String(), reason: Type.Union([Type.String(), Type.Null()]), at: Type.String() })),
});

const IdParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-fA-F-]{36}$' }) });
const ReasonBody = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 1000 }) }, { additionalProperties: false });

export function lockError(err: unknown): never {
  if (!(err instanceof LockTransitionError)) throw err;
  if (err.code === 'LOCK_NOT_FOUND') throw notFound('LOCK_NOT_FOUND', err.message);
  if (err.code === 'LOCK_ROLE_FORBIDDEN') throw forbidden(err.message);
  if (err.code === 'LOCK_REASON_REQUIRED') throw new ApiError(400, 'LOCK_REASON_REQUIRED', err.message);
  throw new ApiError(409, 'LOCK_TRANSITION_ILLEGAL', err.message, { reason: err.code });
}

const holdRoutes: FastifyPluginAsyncTypebox<{ db: Sql }> = async (app, opts) => {
  const holds = holdsRepo(opts.db);
  const common = { tags: ['holds'], security: [{ bearer: [] }] };
  const step = async (id: string, events: LockEvents, actor: string) => holds.transition(id, events, actor).catch(lockError);

  app.get(
    '/v1/holds',
    {
      onRequest: app.requireRole('supervisor'),
      schema: {
        ...common,
        summary: 'Lock instructions with their state history',
        querystring: Type.Object({ state: Type.Optional(Type.Enum(LOCK_STATES)) }),
        response: { 200: Type.Object({ items: Type.Array(LockInstructionSchema) }), ...errorResponses },
      },
    },
    async (req) => ({ items: await holds.list(req.query.state) }),
  );

  app.post(
    '/v1/holds/:id/ack',
    {
      onRequest: app.requireRole('terminal'),
      schema: { ...common, summary: 'The terminal confirms the container is locked (requested|sent → acknowledged)', params: IdParams, response: { 200: LockInstructionSchema, ...errorResponses } },
    },
    async (req) => {
      // The terminal may answer before the outbox recorded the delivery: decided on the state found under the row's
      // lock (the outbox may move requested → sent at any moment before it)
      const events = (state: LockState): LockEvent[] => (state === 'requested' ? [{ type: 'send' }, { type: 'acknowledge' }] : [{ type: 'acknowledge' }]);
      return step(req.params.id, events, req.principal!.name);
    },
  );

  app.post(
    '/v1/holds/:id/inspecting',
    {
      onRequest: app.requireRole('supervisor'),
      schema: { ...common, summary: 'Physical inspection starts (acknowledged → inspecting)', params: IdParams, response: { 200: LockInstructionSchema, ...errorResponses } },
    },
    async (req) => step(req.params.id, [{ type: 'start-inspection' }], req.principal!.name),
  );

  for (const action of ['release', 'seize'] as const) {
    app.post(
      `/v1/holds/:id/${action}`,
      {
        onRequest: app.requireRole('supervisor'),
        schema: {
          ...common,
          summary: action === 'release' ? 'Release the container (inspecting → released), with a reason' : 'Seize the goods (inspecting → seized), with a reason',
          params: IdParams,
          body: ReasonBody,
          response: { 200: LockInstructionSchema, ...errorResponses },
        },
      },
      async (req) => step(req.params.id, [{ type: action, role: req.principal!.role, reason: req.body.reason }], req.principal!.name),
    );
  }
};

export default holdRoutes;
