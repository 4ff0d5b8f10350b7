// Stage 4: act on the machine's verdict: outbox messages (verdict feed, lock instruction, parcel divert),
// the review queue item and the lock instruction, written in the same transaction that marks the scan routed.
// The assess stage routes its own verdict in the transaction that stores it (routeVerdict); this stage
// routes verdicts stored without it: a scan sent to review by the failure path before it, or one whose
// routing failed (the sweeper brings those back here).
import type { Declaration } from '../../domain/declaration/declaration.js';
import type { Queryable } from '../../storage/db/sql.js';
import { scansRepo, type Scan } from '../../storage/repos/scans.js';
import { verdictsRepo, type StoredVerdict } from '../../storage/repos/verdicts.js';
import { outboxRepo } from '../../storage/repos/outbox.js';
import { declarationsRepo } from '../../storage/repos/declarations.js';
import { holdsRepo } from '../../storage/repos/holds.js';
import { reviewRepo } from '../../storage/repos/review.js';
import type { PipelineDeps } from '../deps.js';
import { PermanentJobError } from '../errors.js';
import type { ScanJobPayload, Stage } from '../jobs.js';

/**
 * Routes a stored machine verdict inside the caller's transaction; false when the scan was already routed (then
 * nothing is written). `declaration` is the one the verdict was assessed against (null: none); when not given it
 * is read in the transaction. `claimed`: the caller has already marked the scan routed in this transaction.
 */
export async function routeVerdict(
  deps: Pick<PipelineDeps, 'db' | 'now' | 'reviewSla'>,
  tx: Queryable,
  scan: Pick<Scan, 'scanId' | 'containerNo' | 'waybill'>,
  verdict: StoredVerdict,
  opts: { declaration?: Declaration | null; claimed?: boolean } = {},
): Promise<boolean> {
  const { scanId } = scan;
  // first: its row lock makes a concurrent routing of this scan wait, then find it routed
  if (!opts.claimed && !(await scansRepo(deps.db).markRouted(scanId, tx))) return false;
  const outbox = outboxRepo(deps.db);
  await outbox.add('verdict', `verdict.${verdict.id}`, verdict, tx);
  if (verdict.decision === 'hold' && scan.containerNo) {
    const lock = verdict.actions?.lock ?? { containerNo: scan.containerNo };
    await holdsRepo(deps.db).request(tx, { scanId, containerNo: lock.containerNo, ...(lock.sealNo && { sealNo: lock.sealNo }), reasons: verdict.reasons.filter((r) => r.decision === 'hold').map((r) => r.code), actor: 'machine' });
  }
  if (verdict.decision !== 'clear') {
    const declared = opts.declaration !== undefined ? opts.declaration : ((await declarationsRepo(deps.db).forSubject(scan, tx))?.declaration ?? null);
    await reviewRepo(deps.db).create(tx, {
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
  return true;
}

export function routeHandler(deps: PipelineDeps) {
  const scans = scansRepo(deps.db);
  const verdicts = verdictsRepo(deps.db);
  return async ({ scanId }: ScanJobPayload, carried?: Scan): Promise<Stage | void> => {
    const scan = carried ?? (await scans.get(scanId));
    if (!scan) throw new PermanentJobError('SCAN_NOT_FOUND', `scan ${scanId} is not stored`);
    if (scan.routedAt) return;
    const verdict = await verdicts.machineVerdict(scanId);
    if (!verdict) return 'assess';
    await deps.db.transaction((tx) => routeVerdict(deps, tx, scan, verdict));
  };
}
