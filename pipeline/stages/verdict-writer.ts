// Stores the machine's verdict and moves the scan to `assessed` in one transaction; shared by the
// assess stage and by the failure path (a scan that cannot be processed goes to review, never lost).
import type { Reason, Verdict } from '../../domain/verdict.js';
import { decide } from '../../domain/verdict.js';
import { scansRepo, type Scan } from '../../storage/repos/scans.js';
import { verdictsRepo } from '../../storage/repos/verdicts.js';
import type { PipelineDeps } from '../deps.js';
import { pushToVerdictSeconds, verdictsTotal } from '../metrics.js';

export async function storeMachineVerdict(
  deps: Pick<PipelineDeps, 'db' | 'now'>,
  scan: Scan,
  body: Pick<Verdict, 'reasons' | 'policyVersion' | 'models' | 'runtime' | 'declaredVsSeen' | 'actions' | 'declarationId'> & { decision?: Verdict['decision'] },
): Promise<void> {
  const verdict: Verdict = {
    scanId: scan.scanId,
    subject: scan.containerNo ? { containerNo: scan.containerNo } : { waybill: scan.waybill! },
    decision: body.decision ?? decide(body.reasons),
    reasons: body.reasons,
    ...(body.declaredVsSeen !== undefined && { declaredVsSeen: body.declaredVsSeen }),
    ...(body.actions && { actions: body.actions }),
    ...(body.declarationId && { declarationId: body.declarationId }),
    policyVersion: body.policyVersion,
    models: body.models,
    ...(body.runtime && { runtime: body.runtime }),
    source: 'machine',
    at: deps.now().toISOString(),
  };
  const scans = scansRepo(deps.db);
  const created = await deps.db.transaction(async (tx) => {
    const { created } = await verdictsRepo(deps.db).append(verdict, 'machine', tx);
    await scans.markAssessed(scan.scanId, tx);
    return created;
  });
  if (created) {
    verdictsTotal.inc({ modality: scan.modality, decision: verdict.decision });
    pushToVerdictSeconds.observe({ modality: scan.modality }, (deps.now().getTime() - Date.parse(scan.receivedAt)) / 1000);
  }
}

/** A scan that failed permanently (or ran out of retries) gets a `review` verdict naming the failure. */
export async function failScanToReview(deps: PipelineDeps, scanId: string, code: string, detail: string): Promise<void> {
  const scan = await scansRepo(deps.db).get(scanId);
  if (!scan) return;
  await storeMachineVerdict(deps, scan, {
    reasons: [{ code, layer: 'intake', decision: 'review', detail: `The scan could not be processed automatically: ${detail}` }],
    policyVersion: 'none',
    models: [],
  });
  await deps.queues.enqueue('route', scanId).catch(() => {}); // the sweeper routes it if Redis is away
}
