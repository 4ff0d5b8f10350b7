// Stage 2: run every model registered for the scan's modality on its rendering; the outputs are stored
// as evidence. No registered model → no outputs, and the assessment says MODEL_UNAVAILABLE. In shadow mode
// the candidate models' outputs are stored beside them (never instead of them).
import sharp from 'sharp';
import { isContainerModality, type Modality } from '../../domain/scan.js';
import type { ModelOutput, ModelRuntime, Rendering } from '../../models/runtime/types.js';
import { ObjectNotFoundError } from '../../storage/objects/object-store.js';
import { scansRepo, type Scan } from '../../storage/repos/scans.js';
import type { PipelineDeps } from '../deps.js';
import { PermanentJobError } from '../errors.js';
import type { ScanJobPayload, Stage, StageNext } from '../jobs.js';
import type { RenderingCache } from '../rendering-cache.js';
import { deepCacheId, deepKey, hasMaterial, materialCacheId, materialKey, wantsDeep } from './preprocess.js';

export interface StoredInference {
  outputs: ModelOutput[];
  at: string;
  /** The runtime revision that prepared the models' inputs (absent for scans inferred before it was recorded). */
  runtime?: string;
  /**
   * Shadow mode: the outputs of the registry with the candidate models laid over it, and the candidates that
   * changed this scan's models (name@version). Absent when no candidate serves the scan's modality.
   */
  shadow?: { outputs: ModelOutput[]; models: string[] };
}

/**
 * The candidate models (name@version) that change what a modality's scans are scored with: the shadow runtime's
 * cards that differ from the active runtime's in anything (weights, version, thresholds). Cached per modality.
 */
function candidatesOf(active: ModelRuntime, shadow: ModelRuntime): (modality: Modality) => string[] {
  const byModality = new Map<Modality, string[]>();
  return (modality) => {
    let c = byModality.get(modality);
    if (!c) {
      const activeCards = new Set(active.modelsFor(modality).map((card) => JSON.stringify(card)));
      c = shadow.modelsFor(modality).filter((card) => !activeCards.has(JSON.stringify(card))).map((card) => `${card.name}@${card.version}`);
      byModality.set(modality, c);
    }
    return c;
  };
}

/** With a cache, a rendering that preprocess left in this process is used instead of reading the PNG back. */
export function inferHandler(deps: PipelineDeps, cache?: RenderingCache) {
  const scans = scansRepo(deps.db);
  const candidates = deps.shadowRuntime ? candidatesOf(deps.runtime, deps.shadowRuntime) : () => [];
  return async ({ scanId }: ScanJobPayload, carried?: Scan): Promise<Stage | StageNext> => {
    const scan = carried ?? (await scans.get(scanId));
    if (!scan) throw new PermanentJobError('SCAN_NOT_FOUND', `scan ${scanId} is not stored`);
    if (scan.status === 'received') return 'preprocess';
    if (scan.status === 'preprocessed') {
      const cached = cache?.take(scanId, scan.renderingKey!);
      let outputs: ModelOutput[] = [];
      let shadow: StoredInference['shadow'];
      const withMaterial = hasMaterial(scan);
      const material = withMaterial ? cache?.take(materialCacheId(scanId), materialKey(scanId)) : undefined;
      const deep = withMaterial ? cache?.take(deepCacheId(scanId), deepKey(scanId)) : undefined;
      const shadowModels = candidates(scan.modality);
      const activeModels = deps.runtime.modelsFor(scan.modality).length > 0;
      if (activeModels || shadowModels.length > 0) {
        // a container's rendering is grey (its PNG may come back as sRGB): one channel, as the material beside it
        const rendering = cached ?? (await loadRendering(deps, scan.renderingKey!, isContainerModality(scan.modality)));
        const m = material ?? (withMaterial ? await loadPlane(deps, materialKey(scanId), rendering) : undefined);
        // the deep plane likewise (absent for a scan preprocessed before a verifier read it: the grey verifier serves)
        const d = deep ?? (m && wantsDeep(deps, scan.modality) ? await loadPlane(deps, deepKey(scanId), rendering) : undefined);
        const extra = m ? { material: m, ...(d && { deep: d }) } : {};
        // both at once (each runtime batches on its own); the candidates never fail the active path: a failure
        // is logged and the scan goes on without them
        [outputs, shadow] = await Promise.all([
          activeModels ? deps.runtime.infer(scan.modality, rendering, extra) : [],
          shadowModels.length > 0
            ? deps.shadowRuntime!.infer(scan.modality, rendering, extra).then(
                (o) => ({ outputs: o, models: shadowModels }),
                (err: unknown) => void deps.logger.warn({ scanId, err, models: shadowModels }, 'shadow inference failed; the active verdict is not affected'),
              )
            : undefined,
        ]);
      }
      const inference: StoredInference = {
        outputs,
        at: deps.now().toISOString(),
        ...(outputs.length > 0 && deps.runtime.revision && { runtime: deps.runtime.revision }),
        ...(shadow && { shadow }),
      };
      // with the rendering preprocess found: a scan preprocess handed on in this job has it in memory only
      const stored = await scans.markInferred(scanId, inference, { renderingKey: scan.renderingKey!, rendering: scan.rendering! });
      if (stored) return { next: 'assess', scan: { ...stored, images: scan.images } };
    }
    return 'assess';
  };
}

/**
 * A container's material channel (or deep plane), or undefined when it is not stored (a scan preprocessed before it
 * was made) or does not match the rendering: the grey verifier then serves, as for a rendering-only scan.
 */
async function loadPlane(deps: Pick<PipelineDeps, 'objects'>, key: string, rendering: Rendering): Promise<Rendering | undefined> {
  let m: Rendering;
  try {
    m = await loadRendering(deps, key, true);
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
  return m.width === rendering.width && m.height === rendering.height ? m : undefined;
}

/** `grey`: one channel whatever the PNG holds (the material channel; a grey rendering's PNG may be sRGB). */
export async function loadRendering(deps: Pick<PipelineDeps, 'objects'>, key: string, grey = false): Promise<Rendering> {
  const png = await deps.objects.get(key);
  const img = sharp(png);
  const { data, info } = await (grey ? img.extractChannel(0) : img).raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 1 && info.channels !== 3) throw new PermanentJobError('RENDERING_INVALID', `rendering has ${info.channels} channels`);
  return { width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
