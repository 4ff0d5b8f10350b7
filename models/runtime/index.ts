// The model runtime the infer stage uses: loads every verified card in the registry, preprocesses a
// rendering exactly as each card says, micro-batches concurrent calls per model, and post-processes
// (sigmoid/softmax scores; YOLOv8 decode + class-wise NMS mapped back to rendering pixels). An embedding
// model on a long container rendering also embeds overlapping tiles along its length, in the same run.
import { isContainerModality, type Modality } from '../../domain/scan.js';
import { MicroBatcher } from './batcher.js';
import { letterbox, placement, toChannels, toTensor, unplaceBox, type Placement } from './letterbox.js';
import { cardModalities, emissionThreshold, loadRegistry, ModelCardError, readsDeep, readsMaterial, type LoadedModel } from './registry.js';
import { SessionPool } from './session.js';
import type { InferExtras, ModelCard, ModelOutput, ModelRuntime, Rendering } from './types.js';
import { decodeYolo, nms, sigmoid, softmax } from './yolo.js';
import { decodeGrid } from './grid.js';
import { storedTiles, withTileCrops, type TileSpan } from './tiles.js';
import { sharedDownscale, toRenderingPixels, type Shared } from './downscale.js';
import { checkMaterial, confirmed, denseProposals, gridProposals, proposalWindows, sampleWindow, verifySpec, type Proposal, type VerifiedWindow, type VerifySpec } from './verify.js';
import { latticeCanvas, latticeCells, latticeScale, latticeScores } from './lattice.js';

export type { ModelCard, ModelOutput, ModelRuntime, Rendering, Detection, EmbeddingTile, InferExtras } from './types.js';
export { renderContainerDeep, renderContainerGrey, renderContainerMaterial, renderPseudoColour } from './render.js';
export { validateCard, loadModel, loadRegistry, ModelCardError, emissionThreshold, detectionSources, readsDeep, readsMaterial } from './registry.js';
export { MicroBatcher } from './batcher.js';
export { decodeYolo, nms, iou } from './yolo.js';
export { decodeGrid } from './grid.js';
export { letterbox, placement, resize, toTensor, unplaceBox } from './letterbox.js';
export { embeddingTiles, cropColumns, storedTiles, withTileCrops, TILE_ASPECT, LONG_CONTAINER_ASPECT } from './tiles.js';
export { sharedDownscale, sharedScale, toRenderingPixels } from './downscale.js';
export { gridProposals, denseProposals, sampleWindow, proposalWindows, confirmed, boxResize } from './verify.js';
export { latticeCanvas, latticeCells, latticeScores } from './lattice.js';

/**
 * Changes whenever the runtime prepares a model's input differently (the same cards then give other outputs),
 * so outputs cached under an earlier runtime are not read as this one's (scripts/calibrate.ts's stream cache).
 * `windows-box.1`: a verifier's windows are sampled as train_verifier.py samples them (PIL BOX), not bilinear.
 */
export const RUNTIME_REVISION = 'windows-box.1';

export interface RuntimeOptions {
  registryDir: string;
  /**
   * Candidate models (cards and .onnx files) laid over the registry: a card here replaces the registry's model
   * of the same name, one with a new name is added (shadow mode runs such a runtime beside the active one).
   */
  overlayDir?: string;
  /** onnxruntime intra-op threads per session (default 2). */
  intraOpNumThreads?: number;
  /**
   * Most renderings one model call takes (default 8; 1 for models with a fixed batch of 1). An embedder's
   * tiles ride in the same call as their rendering, so its batch tensor may hold more images than this.
   */
  maxBatch?: number;
  /** How long the first call of a batch waits for company (default 5 ms). */
  maxWaitMs?: number;
  /** Sessions per model (default 1). */
  poolSize?: number;
  /** Let idle intra-op threads spin between runs (default false: see SessionOptions.allowSpinning). */
  allowSpinning?: boolean;
  /**
   * Run each session in a worker thread of its own (default false). The pipeline's worker process turns
   * it on (INFER_OFF_THREAD): preprocessing and post-processing stay on the event loop, the model run does not.
   */
  offThread?: boolean;
  /** Called after every ONNX Runtime batch (metrics: batch size and time). */
  onBatch?: (model: string, size: number, seconds: number) => void;
  /**
   * Downscale a large rendering once for all of a modality's models before each model's own letterbox
   * (default true; models/runtime/downscale.ts). Off: every model resizes the full rendering itself.
   */
  sharedDownscale?: boolean;
}

interface Prepared { tensor: Float32Array; place: Placement; srcW: number; srcH: number; }

/** The input-sized 8-bit image of `prepare`, reused: it is read into the tensor before the next image is prepared. */
let inputBuffer: Uint8Array = new Uint8Array(0);

/** Preprocesses a rendering for a card: channels, letterbox/stretch, normalisation → CHW float. */
export function prepare(card: ModelCard, r: Rendering, out?: Float32Array, offset = 0): Prepared {
  const [, c, h, w] = card.input.shape as [unknown, number, number, number];
  if ((card.input.channels === 'grey+material') !== (r.channels === 2)) {
    throw new ModelCardError(`${card.name} takes ${card.input.channels} input, given a ${r.channels}-channel image`);
  }
  const img = r.channels === 2 ? r : toChannels(r, c === 1 ? 1 : 3);
  // 'tile' is served as letterbox of the whole rendering (tiling is a training-side choice so far)
  const mode = card.input.resize === 'stretch' ? 'stretch' : 'letterbox';
  const { mean, std } = card.input.normalisation;
  // already the input's size (a verifier's window, sampled to it): straight into the tensor, no copy first
  if (img.width === w && img.height === h) return { tensor: toTensor(img, mean, std, out, offset), place: placement(w, h, w, h, mode), srcW: w, srcH: h };
  const lb = letterbox(img, w, h, mode, card.input.padValue ?? 114, (inputBuffer = growTo(inputBuffer, w * h * img.channels)));
  return { tensor: toTensor(lb.image, mean, std, out, offset), place: lb.place, srcW: r.width, srcH: r.height };
}

/**
 * A grid detector's output with the places its verifier is to look at again (input pixels, and their mapping),
 * and how to lay a verifier's dense sweep over it (computed only for the verifier that reads this scan).
 */
type Inferred = ModelOutput & { proposals?: { list: Proposal[]; place: Placement; sweep: (window: number, stride: number) => Proposal[] } };

/** Turns one image's raw output into evidence per the card's layout. */
export function postprocess(card: ModelCard, data: Float32Array, dims: readonly number[], n: number, p: Prepared): ModelOutput {
  const base = { model: card.name, version: card.version, task: card.task };
  if (card.output.layout === 'yolov8') {
    const thr = card.labels.map((l) => emissionThreshold(card, l));
    const raw = decodeYolo(data, dims, n, thr);
    const kept = nms(raw, card.nms?.iou ?? 0.5, card.nms?.maxDetections ?? 300);
    return {
      ...base,
      detections: kept.map((d) => ({ label: card.labels[d.cls] as string, score: d.score, box: unplaceBox(d.box, p.place, p.srcW, p.srcH) })),
    };
  }
  if (card.output.layout === 'grid-logits') {
    const thr = card.labels.map((l) => emissionThreshold(card, l));
    const found = decodeGrid(data, dims, n, thr, card.output.stride ?? 16).slice(0, card.nms?.maxDetections ?? 300);
    return {
      ...base,
      detections: found.map((d) => ({ label: card.labels[d.cls] as string, score: d.score, box: unplaceBox(d.box, p.place, p.srcW, p.srcH) })),
    };
  }
  const k = dims[dims.length - 1] as number;
  const row = Array.from(data.subarray(n * k, (n + 1) * k));
  if (card.output.layout === 'embedding') return { ...base, embedding: row };
  if (row.length !== card.labels.length) throw new ModelCardError(`${card.name}: output has ${row.length} values, card has ${card.labels.length} labels`);
  const probs = card.output.layout === 'multilabel-logits' ? row.map(sigmoid) : softmax(row);
  return { ...base, scores: Object.fromEntries(card.labels.map((l, i) => [l, probs[i] as number])) };
}

/** `buf` when it holds `n` bytes, else a new buffer of `n`. */
function growTo(buf: Uint8Array, n: number): Uint8Array {
  return buf.length >= n ? buf : new Uint8Array(n);
}

/**
 * One rendering for one model; `tiles`: also embed its tiles (an embedder on a container rendering). A
 * verifier's window comes as a function that crops it when its batch is prepared, into a buffer reused for
 * every window (valid only until the next window is cropped: it is read once, into the batch tensor).
 */
interface InferJob { rendering: Rendering | (() => Rendering); tiles: boolean; }

interface Built { card: ModelCard; pool: SessionPool; batcher: MicroBatcher<InferJob, Inferred>; inputName: string; onBatch?: RuntimeOptions['onBatch'] }

type Verifier = Built & { spec: VerifySpec };

class Runtime implements ModelRuntime {
  /**
   * Verifiers by the name of the grid detector they verify (task `verify`: never run on a whole rendering):
   * the grey one, and the one that also reads the material channel of a raw dual-energy pair.
   */
  private readonly verifiers = new Map<string, { grey?: Verifier; material?: Verifier }>();
  private readonly models: Built[];
  /** The verifiers' window buffer (see InferJob): one for every scan, as windows are cropped one at a time. */
  private windowBuffer: Uint8Array = new Uint8Array(0);
  /** Lattice verifiers' runs in progress (one a scan, outside the batchers). */
  private readonly latticeInFlight = new Set<Promise<unknown>>();
  /** How this runtime prepares inputs (RUNTIME_REVISION): recorded with every scan's inference. */
  readonly revision = RUNTIME_REVISION;

  /** `all`: every model built; a verifier carries its parsed spec. */
  constructor(private readonly all: Array<Built & { spec?: VerifySpec }>, private readonly shareDownscale: boolean) {
    this.models = all.filter((m) => !m.spec);
    for (const m of all) {
      if (!m.spec) continue;
      const pair = this.verifiers.get(m.spec.model) ?? {};
      const kind = readsMaterial(m.card) ? 'material' : 'grey';
      if (pair[kind]) throw new ModelCardError(`${m.card.name} and ${pair[kind].card.name} both verify ${m.spec.model} with ${m.card.input.channels} input`);
      pair[kind] = { ...m, spec: m.spec };
      this.verifiers.set(m.spec.model, pair);
    }
  }

  private allVerifiers(): Verifier[] {
    return [...this.verifiers.values()].flatMap((p) => [p.grey, p.material].filter((v): v is Verifier => v !== undefined));
  }

  /** Every model that gives evidence for this modality, verifiers included (they ride with their detector). */
  modelsFor(modality: Modality): ModelCard[] {
    return [...this.models, ...this.allVerifiers()].filter((m) => cardModalities(m.card).includes(modality)).map((m) => m.card);
  }

  async infer(modality: Modality, rendering: Rendering, extra: InferExtras = {}): Promise<ModelOutput[]> {
    for (const r of [rendering, extra.material, extra.deep]) {
      if (r && r.data.length !== r.width * r.height * r.channels) throw new Error(`rendering has ${r.data.length} bytes for ${r.width}×${r.height}×${r.channels}`);
    }
    const { material, deep } = extra;
    if (material) checkMaterial(rendering, material);
    if (deep) checkMaterial(rendering, deep, 'deep plane');
    const ms = this.models.filter((m) => cardModalities(m.card).includes(modality));
    const tiles = isContainerModality(modality);
    const shared = this.shareDownscale ? sharedDownscale(rendering, ms.map((m) => m.card), tiles) : { rendering, sx: 1, sy: 1 };
    const outs = await Promise.all(ms.map((m) => m.batcher.submit({ rendering: shared.rendering, tiles: tiles && m.card.output.layout === 'embedding' })));
    return Promise.all(outs.map((o) => this.finish(o, shared, rendering, material, deep)));
  }

  /**
   * Maps an output back to the rendering's pixels; a grid detector with a verifier gets its proposals
   * re-scored on full-resolution windows, and its detections become what the verifier confirms. Its version
   * then names both models as semver build metadata (e.g. `1.2.0+container-threat-verify.1.0.0`). With a
   * material channel the verifier that reads it is used when there is one (one that also reads the deep plane only
   * when that is given too); without, only a grey one is.
   */
  private async finish(o: Inferred, shared: Shared, rendering: Rendering, material?: Rendering, deep?: Rendering): Promise<ModelOutput> {
    const { proposals, ...out } = o;
    const mapped = toRenderingPixels(out, shared, rendering.width, rendering.height);
    const pair = this.verifiers.get(out.model);
    const dual = pair?.material && material && (deep || !readsDeep(pair.material.card)) ? pair.material : undefined;
    const v = dual ?? pair?.grey;
    if (!v || !proposals) return mapped;
    const p = proposals.place;
    const list = v.spec.denseStride ? [...proposals.list, ...proposals.sweep(v.spec.window, v.spec.denseStride)] : proposals.list;
    const place = { ...p, sx: p.sx / shared.sx, sy: p.sy / shared.sy };
    const windows = proposalWindows(list, v.spec, place, rendering.width, rendering.height);
    if (!windows) return mapped; // the rendering is too coarse for a second look: the grid's own detections stand
    const m = v === dual ? material : undefined;
    const scores = v.card.output.layout === 'window-map' ? await this.latticeRun(v, list, place, rendering, m, deep) : await this.windowRuns(v, windows, rendering, m);
    return {
      ...mapped,
      version: `${out.version}+${v.card.name}.${v.card.version}`,
      verifiedBy: { model: v.card.name, version: v.card.version },
      detections: confirmed(windows, scores, v.card),
    };
  }

  /** A windowed verifier: each window sampled straight to its input size, as training sampled it (no resize after). */
  private async windowRuns(v: Verifier, windows: VerifiedWindow[], rendering: Rendering, m?: Rendering): Promise<Array<Record<string, number>>> {
    const size = v.card.input.shape[3] as number;
    const scratch = (this.windowBuffer = growTo(this.windowBuffer, size * size * (m ? 2 : rendering.channels)));
    const crop = (w: VerifiedWindow) => (): Rendering => sampleWindow(rendering, w.x0, w.y0, w.x1, w.y1, size, m, 255, scratch);
    const scores = await Promise.all(windows.map((w) => v.batcher.submit({ rendering: crop(w), tiles: false })));
    return scores.map((s) => s.scores ?? {});
  }

  /**
   * A lattice verifier (lattice.ts): the whole scan resampled once to the verifier's scale, one run, and each
   * window's scores read from the window map. Scans differ in size, so each is a run of its own. A rendering sent as
   * RGB (a grey PNG decodes as three equal channels) is read as grey, as a windowed verifier's windows are.
   */
  private async latticeRun(v: Verifier, list: Proposal[], place: Placement, rendering: Rendering, m?: Rendering, deep?: Rendering): Promise<Array<Record<string, number>>> {
    const canvas = latticeCanvas(v.card, toChannels(rendering, 1), m, latticeScale(v.card, place.sx), deep);
    const started = performance.now();
    // not a batcher's job: close() waits for it by this set before the sessions go
    const run = v.pool.run(v.inputName, canvas.tensor, canvas.dims, v.card.output.name);
    this.latticeInFlight.add(run);
    const out = await run.finally(() => this.latticeInFlight.delete(run));
    v.onBatch?.(v.card.name, 1, (performance.now() - started) / 1000);
    const [, , gh, gw] = out.dims as [number, number, number, number];
    return latticeScores(out.data, out.dims, latticeCells(list, place, canvas, v.card, gh, gw), v.card.labels);
  }

  async close(): Promise<void> {
    // detectors first: a verifier's windows are submitted while its detector's jobs finish
    await Promise.all(this.models.map((m) => m.batcher.drain()));
    await Promise.all(this.allVerifiers().map((m) => m.batcher.drain()));
    await Promise.allSettled([...this.latticeInFlight]);
    await Promise.all(this.all.map((m) => m.pool.close()));
  }
}

/** `verifier`: the spec of the model that verifies this grid detector's proposals; `own`: this model's, when it is a verifier. */
async function build(m: LoadedModel, o: RuntimeOptions, verifier?: VerifySpec, own?: VerifySpec): Promise<Built> {
  const card = m.card;
  const pool = await SessionPool.create(m.bytes, {
    intraOpNumThreads: o.intraOpNumThreads ?? 2,
    poolSize: o.poolSize ?? 1,
    allowSpinning: o.allowSpinning ?? false,
    offThread: o.offThread ?? false,
  });
  const inputName = pool.inputNames.includes('images') ? 'images' : (pool.inputNames[0] ?? 'images');
  if (!pool.outputNames.includes(card.output.name)) {
    await pool.close();
    throw new ModelCardError(`${m.path}: card names output ${card.output.name}, the model has ${pool.outputNames.join(', ')}`);
  }
  const fixedBatch = typeof card.input.shape[0] === 'number' && card.input.shape[0] > 0;
  // a verifier takes every window of a scan in one run
  const maxBatch = fixedBatch ? 1 : Math.max(o.maxBatch ?? 8, own?.maxProposals ?? 0);
  const [, c, h, w] = card.input.shape as [unknown, number, number, number];
  const per = c * h * w;
  const forward = async (items: Array<InferJob['rendering']>): Promise<Inferred[]> => {
    // Each image is normalised straight into its slot of the batch tensor: no per-image tensor copy.
    const batch = new Float32Array(per * items.length);
    const prepared = items.map((r, i) => prepare(card, typeof r === 'function' ? r() : r, batch, i * per));
    const started = performance.now();
    // (off the thread, `batch` is handed over here and not touched again)
    const out = await pool.run(inputName, batch, [items.length, c, h, w], card.output.name);
    o.onBatch?.(card.name, items.length, (performance.now() - started) / 1000);
    return prepared.map((p, i) => {
      const r: Inferred = postprocess(card, out.data, out.dims, i, p);
      if (verifier) {
        const stride = card.output.stride ?? 16;
        r.proposals = {
          list: gridProposals(out.data, out.dims, i, verifier.proposalThreshold, verifier.maxProposals, stride),
          place: p.place,
          sweep: (window, dense) => denseProposals(out.data, out.dims, i, p.place, window, dense, stride),
        };
      }
      return r;
    });
  };
  const run = async (jobs: InferJob[]): Promise<Inferred[]> => {
    // Every job's whole rendering, then its tiles (cropped at full resolution, preprocessed like any input).
    const parts: Array<{ spans: TileSpan[]; images: Array<InferJob['rendering']> }> = jobs.map((j) =>
      typeof j.rendering === 'function' ? { spans: [], images: [j.rendering] } : withTileCrops(j.rendering, j.tiles),
    );
    const images = parts.flatMap((p) => p.images);
    let outs: Inferred[];
    if (!fixedBatch || images.length === 1) outs = await forward(images);
    else {
      outs = []; // a model with a fixed batch of one takes its images one run at a time
      for (const img of images) outs.push(...(await forward([img])));
    }
    let k = 0;
    return parts.map(({ spans }) => {
      const whole = outs[k++]!;
      if (spans.length === 0) return whole;
      return { ...whole, tiles: storedTiles(spans, spans.map(() => outs[k++]!.embedding ?? [])) };
    });
  };
  return { card, pool, batcher: new MicroBatcher(run, maxBatch, o.maxWaitMs ?? 5), inputName, ...(o.onBatch && { onBatch: o.onBatch }) };
}

/** Loads and verifies every model in `registryDir`; throws on a bad card or a sha256 mismatch. */
/** The registry's models with the overlay's laid over them by card name (the overlay's win). */
export async function overlaidRegistry(registryDir: string, overlayDir: string): Promise<LoadedModel[]> {
  const overlay = await loadRegistry(overlayDir);
  if (overlay.length === 0) throw new ModelCardError(`${overlayDir} holds no model card (*.card.json)`);
  const names = new Set(overlay.map((m) => m.card.name));
  return [...(await loadRegistry(registryDir)).filter((m) => !names.has(m.card.name)), ...overlay];
}

export async function createModelRuntime(o: RuntimeOptions): Promise<ModelRuntime> {
  const loaded = o.overlayDir ? await overlaidRegistry(o.registryDir, o.overlayDir) : await loadRegistry(o.registryDir);
  const specs = new Map(loaded.map((m) => [m, verifySpec(m.card)] as const));
  const byDetector = new Map<string, VerifySpec>();
  for (const s of specs.values()) {
    if (!s) continue;
    // a grey and a material verifier of one grid re-score the same proposals (each may add its own dense sweep)
    const other = byDetector.get(s.model);
    if (other && (other.proposalThreshold !== s.proposalThreshold || other.maxProposals !== s.maxProposals)) {
      throw new ModelCardError(`the verifiers of ${s.model} disagree on proposalThreshold or maxProposals`);
    }
    byDetector.set(s.model, s);
  }
  const models: Array<Built & { spec?: VerifySpec }> = [];
  try {
    for (const m of loaded) {
      const spec = specs.get(m);
      models.push({ ...(await build(m, o, m.card.output.layout === 'grid-logits' ? byDetector.get(m.card.name) : undefined, spec)), ...(spec && { spec }) });
    }
  } catch (err) {
    // a model that fails to load: the sessions (and their threads) of those built before it are let go
    await Promise.allSettled(models.map((m) => m.pool.close()));
    throw err;
  }
  return new Runtime(models, o.sharedDownscale ?? true);
}
