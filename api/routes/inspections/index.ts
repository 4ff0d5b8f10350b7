// What the physical inspection found closes the loop: a new verdict event on the scan (source
// `inspection`), the enterprise's record, labelled boxes for the training set, and — when the goods were
// as declared — the scan as a reference candidate for each declared HS code, promoted to the reference
// library at once when one kind of goods was declared and the scan has an embedding. With an Idempotency-Key
// header a retried request is answered with the first one's result (200) and records nothing again.
import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import type { Verdict } from '../../../domain/verdict.js';
import type { Sql } from '../../../storage/db/sql.js';
import { auditRepo } from '../../../storage/repos/audit.js';
import { declarationsRepo } from '../../../storage/repos/declarations.js';
import { INSPECTION_RESULTS, inspectionsRepo } from '../../../storage/repos/inspections.js';
import { outboxRepo } from '../../../storage/repos/outbox.js';
import { referencesRepo } from '../../../storage/repos/references.js';
import { promoteCandidate } from '../references/promote.js';
import { scansRepo } from '../../../storage/repos/scans.js';
import { verdictsRepo } from '../../../storage/repos/verdicts.js';
import { ApiError, notFound } from '../../errors.js';
import { errorResponses } from '../../schemas.js';

/** What a recorded inspection answers (201), and a retry of it (200). */
const InspectionAnswer = Type.Object({
  inspectionId: Type.String(),
  verdictId: Type.String(),
  decision: Type.String(),
  referenceCandidates: Type.Array(Type.String()),
  references: Type.Array(Type.String(), { description: 'reference ids the scan became (single-code declarations with an embedding)' }),
});
type InspectionAnswer = Static<typeof InspectionAnswer>;

const BoxSchema = Type.Tuple([Type.Number(), Type.Number(), Type.Number(), Type.Number()]);

const inspectionRoutes: FastifyPluginAsyncTypebox<{ db: Sql }> = async (app, opts) => {
  const scans = scansRepo(opts.db);
  const verdicts = verdictsRepo(opts.db);
  const declarations = declarationsRepo(opts.db);
  const inspections = inspectionsRepo(opts.db);
  const audit = auditRepo(opts.db);
  const outbox = outboxRepo(opts.db);

  app.post(
    '/v1/inspections',
    {
      onRequest: app.requireRole('risk-control', 'supervisor'),
      schema: {
        summary: "Record a physical inspection's result: a new verdict event on the scan",
        tags: ['risk control'],
        security: [{ bearer: [] }],
        body: Type.Object(
          {
            scanId: Type.String({ maxLength: 128 }),
            result: Type.Enum(INSPECTION_RESULTS),
            findings: Type.Optional(Type.String({ maxLength: 4000 })),
            labels: Type.Optional(Type.Array(Type.Object({ label: Type.String({ minLength: 1, maxLength: 64 }), box: BoxSchema }), { maxItems: 200 })),
            photos: Type.Optional(Type.Array(Type.String({ maxLength: 500 }), { maxItems: 50, description: 'references to photos (object keys or URLs)' })),
          },
          { additionalProperties: false },
        ),
        headers: Type.Object({
          'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$', description: 'the same key on a retry: answered with the first result, recorded once' })),
        }),
        response: {
          200: { ...InspectionAnswer, description: "a retry with the same Idempotency-Key: the first request's answer" },
          201: InspectionAnswer,
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const { scanId, result, findings, labels = [], photos = [] } = req.body;
      const header = req.headers['idempotency-key'];
      const idempotency = header ? { key: `${req.principal!.id}:${header}`, requestHash: createHash('sha256').update(JSON.stringify(req.body)).digest('hex') } : undefined;
      /** The first request's answer for a retry; 422 for another request reusing its key; null when there is none. */
      const replay = async () => {
        const first = idempotency && (await inspections.byIdempotencyKey(idempotency.key));
        if (!first) return null;
        if (first.requestHash !== idempotency.requestHash) throw new ApiError(422, 'IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different inspection');
        return reply.status(200).header('idempotent-replayed', 'true').send(first.answer as InspectionAnswer);
      };
      const replayed = await replay();
      if (replayed) return replayed;
      const scan = await scans.get(scanId);
      if (!scan) throw notFound('SCAN_NOT_FOUND', `no scan ${scanId}`);
      const machine = await verdicts.machineVerdict(scanId);
      const stored = machine?.declarationId ? await declarations.get(machine.declarationId) : await declarations.forSubject(scan);
      const decision = result === 'nothing' ? 'clear' : 'hold';
      const verdict: Verdict = {
        scanId,
        subject: scan.containerNo ? { containerNo: scan.containerNo } : { waybill: scan.waybill! },
        decision,
        reasons: [{
          code: `INSPECTION_${result.toUpperCase().replaceAll('-', '_')}`,
          layer: 'inspection',
          decision,
          detail: findings ?? `Physical inspection: ${result.replaceAll('-', ' ')}.`,
          ...(labels.length && { evidence: { boxes: labels.map((l) => ({ label: l.label, score: 1, box: l.box })) } }),
        }],
        policyVersion: machine?.policyVersion ?? 'none',
        models: [],
        source: 'inspection',
        at: new Date().toISOString(),
        ...(stored && { declarationId: stored.declaration.declarationId }),
      };
      const hsCodes = result === 'nothing' && stored ? stored.declaration.lines.map((l) => l.hsCode) : [];
      const recorded = opts.db.transaction(async (tx) => {
        const v = await verdicts.append(verdict, req.principal!.name, tx);
        const inspectionId = await inspections.add(tx, {
          scanId, result, ...(findings && { findings }), labels, photos, enterpriseId: stored?.declaration.enterprise.id ?? null, inspector: req.principal!.name, verdictId: v.verdict.id,
          ...(idempotency && { idempotency }),
        });
        await inspections.addReferenceCandidates(tx, scanId, hsCodes, inspectionId);
        // One kind of goods declared: the scan's one embedding describes it, so it becomes a reference now.
        // Several kinds: the candidates wait for a supervisor (POST /v1/references/:candidateId/approve).
        const references: string[] = [];
        if (new Set(hsCodes.map((c) => c.slice(0, 6))).size === 1) {
          for (const c of await referencesRepo(tx).candidatesOf(tx, inspectionId)) {
            const id = await promoteCandidate(tx, c, scan, { status: 'promoted', actor: req.principal!.name });
            if (id) references.push(id);
          }
        }
        await outbox.add('verdict', `verdict.${v.verdict.id}`, v.verdict, tx);
        await audit.append(tx, { actor: req.principal!.name, action: 'inspection.recorded', subject: `scan:${scanId}`, detail: { inspectionId, result, verdictId: v.verdict.id, labels: labels.length } });
        const answer: InspectionAnswer = { inspectionId, verdictId: v.verdict.id, decision, referenceCandidates: [...new Set(hsCodes)], references };
        if (idempotency) await inspections.keepAnswer(tx, inspectionId, answer);
        return answer;
      });
      let answer: InspectionAnswer;
      try {
        answer = await recorded;
      } catch (err) {
        // the same retry sent twice at once: the second one's transaction, refused by the key's unique index, left
        // nothing behind; it answers as a retry
        if ((err as { code?: string }).code === '23505' && idempotency) return (await replay()) ?? Promise.reject(err);
        throw err;
      }
      return reply.status(201).send(answer);
    },
  );
};

export default inspectionRoutes;
