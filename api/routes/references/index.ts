// The reference library over HTTP: candidates from inspections awaiting a supervisor, the supervisor's
// approval that makes one a reference, and reference thumbnails by signed URL (the review screen's
// same-screen comparison).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Sql } from '../../../storage/db/sql.js';
import { ObjectNotFoundError, type ObjectStore } from '../../../storage/objects/object-store.js';
import { referencesRepo } from '../../../storage/repos/references.js';
import { scansRepo } from '../../../storage/repos/scans.js';
import { ApiError, notFound } from '../../errors.js';
import { errorResponses } from '../../schemas.js';
import { signedQuery, verifyImageGrant } from '../images/signing.js';
import { CandidateSettledError, promoteCandidate } from './promote.js';

export interface ReferenceRoutesOptions {
  db: Sql;
  objects: ObjectStore;
  imageUrls: { secret: string; ttlSeconds: number };
}

/** The grant a reference thumbnail URL carries (a namespace of its own, so a scan grant never fits). */
const grantSubject = (referenceId: string) => `reference:${referenceId}`;

/** A signed, expiring URL for one reference's image. */
export function referenceImageUrl(imageUrls: { secret: string; ttlSeconds: number }, referenceId: string, nowMs = Date.now()): string {
  const exp = Math.floor(nowMs / 1000) + imageUrls.ttlSeconds;
  return `/v1/references/${referenceId}/image?${signedQuery(imageUrls.secret, { scanId: grantSubject(referenceId), role: 'reference', exp })}`;
}

const Candidate = Type.Object({ id: Type.String(), scanId: Type.String(), hsCode: Type.String(), inspectionId: Type.String(), status: Type.String(), referenceId: Type.Union([Type.String(), Type.Null()]), createdAt: Type.String() });

const referenceRoutes: FastifyPluginAsyncTypebox<ReferenceRoutesOptions> = async (app, opts) => {
  const refs = referencesRepo(opts.db);
  const scans = scansRepo(opts.db);
  const common = { tags: ['references'], security: [{ bearer: [] }] };

  app.get(
    '/v1/references/candidates',
    {
      onRequest: app.requireRole('supervisor'),
      schema: { ...common, summary: 'Scans verified by inspection that are not yet references (multi-code declarations, or no embedding yet)', response: { 200: Type.Object({ candidates: Type.Array(Candidate) }), ...errorResponses } },
    },
    async () => ({ candidates: await refs.candidates('pending') }),
  );

  app.post(
    '/v1/references/:candidateId/approve',
    {
      onRequest: app.requireRole('supervisor'),
      schema: {
        ...common,
        summary: "A supervisor's approval: the candidate's scan becomes a reference for its HS code",
        params: Type.Object({ candidateId: Type.String({ pattern: '^[0-9]{1,18}$' }) }),
        response: { 201: Type.Object({ referenceId: Type.String(), hsCode: Type.String(), scanId: Type.String() }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const candidate = await refs.candidate(req.params.candidateId);
      if (!candidate) throw notFound('CANDIDATE_NOT_FOUND', `no reference candidate ${req.params.candidateId}`);
      if (candidate.status !== 'pending') throw new ApiError(409, 'CANDIDATE_SETTLED', `candidate ${candidate.id} is already ${candidate.status}`, { referenceId: candidate.referenceId });
      const scan = await scans.get(candidate.scanId);
      if (!scan) throw notFound('SCAN_NOT_FOUND', `no scan ${candidate.scanId}`);
      try {
        const referenceId = await opts.db.transaction((tx) => promoteCandidate(tx, candidate, scan, { status: 'approved', actor: req.principal!.name }));
        if (!referenceId) throw new ApiError(409, 'REFERENCE_NO_EMBEDDING', 'the scan has no embedding yet (no embedding model ran on it); approve it after the pipeline has run');
        return reply.status(201).send({ referenceId, hsCode: candidate.hsCode, scanId: candidate.scanId });
      } catch (err) {
        if (err instanceof CandidateSettledError) throw new ApiError(409, 'CANDIDATE_SETTLED', err.message);
        throw err;
      }
    },
  );

  app.get(
    '/v1/references/:id/image',
    {
      schema: {
        summary: "A reference's image (8-bit PNG) by signed URL",
        tags: ['references'],
        params: Type.Object({ id: Type.String({ maxLength: 20 }) }),
        querystring: Type.Object({ exp: Type.Optional(Type.String({ maxLength: 16 })), sig: Type.Optional(Type.String({ maxLength: 64 })) }),
        response: { 200: Type.Unknown(), ...errorResponses },
      },
    },
    async (req, reply) => {
      verifyImageGrant(opts.imageUrls.secret, grantSubject(req.params.id), 'reference', req.query.exp, req.query.sig, Date.now());
      const ref = await refs.get(req.params.id);
      if (!ref) throw notFound('REFERENCE_NOT_FOUND', `no reference ${req.params.id}`);
      const stream = await opts.objects.getStream(ref.imageKey).catch((err: unknown) => {
        if (err instanceof ObjectNotFoundError) throw notFound('IMAGE_NOT_FOUND', 'the reference image is missing from the store');
        throw err;
      });
      const maxAge = Math.max(0, Number(req.query.exp) - Math.floor(Date.now() / 1000));
      return reply.header('cache-control', `private, max-age=${maxAge}`).type('image/png').send(stream);
    },
  );
};

export default referenceRoutes;
