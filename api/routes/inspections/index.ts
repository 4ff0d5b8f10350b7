// What the physical inspection found closes the loop: a new verdict event on the scan (source
// `inspection`), the enterprise's record, labelled boxes for the training set, and — when the goods were
// as declared — the scan as a reference candidate for each declared HS code, promoted to the reference
// library at once when one kind of goods was declared and the scan has an embedding.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
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
import { notFound } from '../../errors.js';
import { errorResponses } from '../../schemas.js';

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
        response: {
          201: Type.Object({ inspectionId: Type.String(), verdictId: Type.String(), decision: Type.String(), referenceCandidates: Type.Array(Type.String()), references: Type.Array(Type.String(), { description: 'reference ids the scan became (single-code declarations with an embedding)' }) }),
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const { scanId, result, findings, labels = [], photos = [] } = req.body;
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
      const out = await opts.db.transaction(async (tx) => {
        const v = await verdicts.append(verdict, req.principal!.name, tx);
        const inspectionId = await inspections.add(tx, {
          scanId, result, ...(findings && { findings }), labels, photos, enterpriseId: stored?.declaration.enterprise.id ?? null, inspector: req.principal!.name, verdictId: v.verdict.id,
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
        return { inspectionId, verdictId: v.verdict.id, references };
      });
      return reply.status(201).send({ ...out, decision, referenceCandidates: [...new Set(hsCodes)] });
    },
  );
};

export default inspectionRoutes;
