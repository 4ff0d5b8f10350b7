// Stores the machine's verdict, moves the scan to `assessed` and routes the verdict (route.ts), all in one
// transaction; shared by the assess stage and by the failure path (a scan that cannot be processed goes to
// review, never lost). One commit: a crash leaves either nothing or a verdict that is stored and acted on.
import type { Declaration } from '../../domain/declaration/declaration.js';
import type { Reason, Verdict } from '../../domain/verdict.js';
import { decide } from '../../domain/verdict.js';
import { scansRepo, type Scan } from '../../storage/repos/scans.js';
import { verdictsRepo } from '../../storage/repos/verdicts.js';
import type { PipelineDeps } from '../deps.js';
import { pushToVerdictSeconds, verdictsTotal } from '../metrics.js';
import { routeVerdict } from './route.js';

/**
 * `declaration`: the one the verdict was assessed against (null: none), for the review item; read in the
 * transaction when not given. Routes the stored verdict (this one, or the one a previous run stored) unless the
 * scan is routed already.
 */
export async function storeMachineVerdict(
  deps: Pick<PipelineDeps, 'db' | 'now' | 'reviewSla'>,
  scan: Scan,
  body: Pick<Verdict, 'reasons' | 'policyVersion' | 'models' | 'runtime' | 'declaredVsSeen' | 'actions' | 'declarationId'> & { decision?: Verdict['decision'] },
  opts: { declaration?: Declaration | null } = {},
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
    // first, in one statement: `assessed` and routed. Its row lock makes a concurrent run wait, then find the scan
    // routed: a verdict is stored and routed together, so that run's verdict stands and nothing is written here.
    if (!(await scans.markRouted(scan.scanId, tx, { assessed: true }))) return false;
    const { created, verdict: stored } = await verdictsRepo(deps.db).append(verdict, 'machine', tx);
    // a verdict another run stored first (without routing it) is routed with the declaration read now, not the
    // one this run assessed against
    await routeVerdict(deps, tx, scan, stored, { ...(created ? opts : {}), claimed: true });
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
}
