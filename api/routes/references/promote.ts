// Turning a verified scan into a reference: the scan's stored embedding (from the infer stage) becomes a
// library row for one HS code (with its tile vectors when the scan was a long container of one kind of
// goods), the candidate is settled, and the audit log says who and why — all in the caller's transaction.
import type { Queryable } from '../../../storage/db/sql.js';
import { auditRepo } from '../../../storage/repos/audit.js';
import { referencesRepo, type ReferenceCandidate } from '../../../storage/repos/references.js';
import type { Scan } from '../../../storage/repos/scans.js';
import { scanEmbedding } from '../../../models/knn/index.js';

export class CandidateSettledError extends Error {
  constructor(id: string) {
    super(`reference candidate ${id} is already settled`);
    this.name = 'CandidateSettledError';
  }
}

/** Promotes one pending candidate; null when the scan has no embedding or rendering, or it was settled. */
export async function promoteCandidate(
  tx: Queryable,
  candidate: ReferenceCandidate,
  scan: Scan,
  how: { status: 'promoted' | 'approved'; actor: string },
): Promise<string | null> {
  const e = scanEmbedding(scan.inference);
  if (!e || !scan.renderingKey) return null;
  const refs = referencesRepo(tx);
  // A mixed load's tiles cannot be told apart by code: only a scan of one kind of goods lends its tiles.
  const kinds = e.tiles ? new Set((await refs.candidatesOf(tx, candidate.inspectionId)).map((c) => c.hsCode.slice(0, 6))).size : 0;
  const referenceId = await refs.add(
    {
      hsCode: candidate.hsCode,
      modality: scan.modality,
      scannerId: scan.scannerId,
      scanId: scan.scanId,
      imageKey: scan.renderingKey,
      model: e.model,
      modelVersion: e.version,
      embedding: e.embedding,
      ...(kinds === 1 && { tileEmbeddings: e.tiles }),
      source: how.status === 'promoted' ? 'inspection' : 'approval',
      inspectionId: candidate.inspectionId,
      addedBy: how.actor,
    },
    tx,
  );
  if (!(await refs.settleCandidate(tx, candidate.id, how.status, referenceId))) throw new CandidateSettledError(candidate.id);
  await auditRepo(tx).append(tx, {
    actor: how.actor,
    action: 'reference.added',
    subject: `reference:${referenceId}`,
    detail: { hsCode: candidate.hsCode, source: how.status === 'promoted' ? 'inspection' : 'approval', scanId: scan.scanId, inspectionId: candidate.inspectionId, candidateId: candidate.id },
  });
  return referenceId;
}
