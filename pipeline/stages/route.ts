// Stage 4: act on the machine's verdict: outbox messages (verdict feed, lock instruction, parcel divert),
// the review queue item and the lock instruction, written in the same transaction that marks the scan routed.
import { scansRepo } from '../../storage/repos/scans.js';
import { verdictsRepo } from '../../storage/repos/verdicts.js';
import { outboxRepo } from '../../storage/repos/outbox.js';
import { declarationsRepo } from '../../storage/repos/declarations.js';
import { holdsRepo } from '../../storage/repos/holds.js';
import { reviewRepo } from '../../storage/repos/review.js';
import type { PipelineDeps } from '../deps.js';
import { PermanentJobError } from '../errors.js';
import type { ScanJobPayload, Stage } from '../jobs.js';

export function routeHandler(deps: PipelineDeps) {
  const scans = scansRepo(deps.db);
  const verdicts = verdictsRepo(deps.db);
  const outbox = outboxRepo(deps.db);
  const declarations = declarationsRepo(deps.db);
  const holds = holdsRepo(deps.db);
  const review = reviewRepo(deps.db);
  return async ({ scanId }: ScanJobPayload): Promise<Stage | void> => {
    const scan = await scans.get(scanId);
    if (!scan) throw new PermanentJobError('SCAN_NOT_FOUND', `scan ${scanId} is not stored`);
    if (scan.routedAt) return;
    const verdict = await verdicts.machineVerdict(scanId);
    if (!verdict) return 'assess';
    await deps.db.transaction(async (tx) => {
      await outbox.add('verdict', `verdict.${verdict.id}`, verdict, tx);
      if (verdict.decision === 'hold' && scan.containerNo) {
        const lock = verdict.actions?.lock ?? { containerNo: scan.containerNo };
        await holds.request(tx, { scanId, containerNo: lock.containerNo, ...(lock.sealNo && { sealNo: lock.sealNo }), reasons: verdict.reasons.filter((r) => r.decision === 'hold').map((r) => r.code), actor: 'machine' });
      }
      if (verdict.decision !== 'clear') {
        const declared = (await declarations.forSubject(scan, tx))?.declaration;
        await review.create(tx, {
          scanId,
          machineVerdictId: verdict.id,
          decision: verdict.decision,
          reasons: verdict.reasons,
          perishable: declared?.perishable ?? false,
          ...(declared?.vesselClosingAt && { vesselClosingAt: declared.vesselClosingAt }),
          ...(declared && { creditLevel: declared.enterprise.creditLevel, enterpriseId: declared.enterprise.id }),
          enqueuedAt: deps.now().toISOString(),
          ...(deps.reviewSla && { sla: deps.reviewSla }),
        });
      }
      if (verdict.decision === 'hold' && scan.waybill) {
        await outbox.add('divert', `divert.${scanId}`, { scanId, waybill: scan.waybill, reasons: verdict.reasons.map((r) => r.code) }, tx);
      }
      await scans.markRouted(scanId, tx);
    });
  };
}
