// Stage 3: turn evidence + declaration + credit into the machine's verdict (the rules live in domain/).
// A scan without a declaration waits for one (the sweeper brings it back) until DECLARATION_WAIT_MS.
import { assess } from '../../domain/assessment/assess.js';
import { assessShadow } from '../../domain/assessment/shadow.js';
import { shadowRepo } from '../../storage/repos/shadow.js';
import type { ModelEvidence } from '../../domain/assessment/types.js';
import { declarationsRepo } from '../../storage/repos/declarations.js';
import { containersRepo } from '../../storage/repos/containers.js';
import { declaredContainer, type Declaration } from '../../domain/declaration/declaration.js';
import { scansRepo } from '../../storage/repos/scans.js';
import { verdictsRepo } from '../../storage/repos/verdicts.js';
import type { PipelineDeps } from '../deps.js';
import { PermanentJobError } from '../errors.js';
import type { ScanJobPayload, Stage } from '../jobs.js';
import type { StoredInference } from './infer.js';
import { storeMachineVerdict } from './verdict-writer.js';
import { matchReferences, scanEmbedding } from '../../models/knn/index.js';
import { referencesRepo } from '../../storage/repos/references.js';
import type { ReferenceMatch } from '../../domain/assessment/reference-match.js';
import type { Scan } from '../../storage/repos/scans.js';
import { cachedReferenceLibrary, type ReferenceLibrary } from '../reference-library.js';

/**
 * The scan's nearest verified references for its declared codes: exact cosine search over the live
 * library of its modality and embedding model (no embedding → undefined, the classifier check stands); a
 * long container's tiles are matched too.
 */
async function matchAgainstLibrary(refs: ReferenceLibrary, scan: Scan, declaredCodes: string[]): Promise<ReferenceMatch | undefined> {
  const e = scanEmbedding(scan.inference);
  if (!e || declaredCodes.length === 0) return undefined;
  const library = await refs.vectors(scan.modality, e.model, e.version);
  return matchReferences(e.embedding, library, declaredCodes, { name: e.model, version: e.version }, { ...(e.tiles && { tiles: e.tiles }) });
}

/**
 * The container register's tare for a weighed container whose declaration gives none (the only case the
 * manifest check needs it; no query otherwise).
 */
async function registeredTare(containers: ReturnType<typeof containersRepo>, scan: Scan, declaration: Declaration | undefined): Promise<number | undefined> {
  if (!scan.containerNo || scan.weightKg === null || !declaration) return undefined;
  const declared = declaredContainer(declaration, scan.containerNo);
  if (!declared || declared.tareKg !== undefined) return undefined;
  return (await containers.get(scan.containerNo))?.tareKg;
}

export function assessHandler(deps: PipelineDeps) {
  const scans = scansRepo(deps.db);
  const containers = containersRepo(deps.db);
  const verdicts = verdictsRepo(deps.db);
  const declarations = declarationsRepo(deps.db);
  const references = cachedReferenceLibrary(referencesRepo(deps.db));
  return async ({ scanId }: ScanJobPayload, carried?: Scan): Promise<Stage | void> => {
    const scan = carried ?? (await scans.get(scanId));
    if (!scan) throw new PermanentJobError('SCAN_NOT_FOUND', `scan ${scanId} is not stored`);
    if (scan.status === 'received' || scan.status === 'preprocessed') return scan.status === 'received' ? 'preprocess' : 'infer';
    // the verdict is stored in the transaction that marks the scan `assessed`: an `inferred` scan has none (and
    // should one be stored meanwhile, storing is idempotent: the stored verdict is the one routed)
    if (scan.status === 'inferred' || !(await verdicts.machineVerdict(scanId))) {
      const declared = await declarations.forSubject(scan);
      const waited = deps.now().getTime() - Date.parse(scan.receivedAt);
      if (!declared && waited < deps.declarationWaitMs) {
        deps.logger.debug({ scanId, waited }, 'waiting for a declaration');
        return; // stays `inferred`; a declaration's arrival or the sweeper brings it back
      }
      const inference = scan.inference as StoredInference | null;
      const outputs = (inference?.outputs ?? []) as ModelEvidence[];
      const subject = scan.containerNo ? { containerNo: scan.containerNo } : { waybill: scan.waybill! };
      const referenceMatch = await matchAgainstLibrary(references, scan, declared?.declaration.lines.map((l) => l.hsCode) ?? []);
      const registeredTareKg = await registeredTare(containers, scan, declared?.declaration);
      const input = {
        scanId,
        modality: scan.modality,
        subject,
        ...(scan.weightKg !== null && { weightKg: scan.weightKg }),
        ...(registeredTareKg !== undefined && { registeredTareKg }),
        ...(declared && { declaration: declared.declaration }),
        modelOutputs: outputs,
        ...(referenceMatch && { referenceMatch }),
      };
      const a = assess(input, deps.policy);
      if (deps.shadowPolicy || inference?.shadow) {
        // Shadow mode: the candidate (a policy, models, or both) decides nothing; its differences are recorded.
        const candidate = deps.shadowPolicy ?? deps.policy;
        const candidateOutputs = inference?.shadow?.outputs as ModelEvidence[] | undefined;
        const label = [candidate.version, ...(inference?.shadow?.models ?? [])].join('+');
        await shadowRepo(deps.db).record(scanId, assessShadow(deps.policy, candidate, input, candidateOutputs), label);
      }
      await storeMachineVerdict(deps, scan, {
        decision: a.decision,
        reasons: a.reasons,
        declaredVsSeen: a.declaredVsSeen,
        policyVersion: a.policyVersion,
        models: a.models,
        ...(inference?.runtime && { runtime: inference.runtime }),
        actions: {
          ...(a.lockInstruction && { lock: a.lockInstruction }),
          ...(a.divert && { divert: true }),
          directRelease: a.directRelease,
          blindSample: a.blindSample,
        },
        ...(declared && { declarationId: declared.declaration.declarationId }),
      }, { declaration: declared?.declaration ?? null });
      return; // stored and routed in one transaction
    }
    return 'route';
  };
}
