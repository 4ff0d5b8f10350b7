// Model cards on disk: reading `<name>.card.json` beside `<name>.onnx`, validating every required field,
// and refusing an .onnx whose sha256 differs from its card. A model the card does not describe is refused.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { MODALITIES, type Modality } from '../../domain/scan.js';
import type { ModelCard } from './types.js';
import type { DetectionSource } from '../../domain/policy/policy.js';

/** Whether a card's model reads a raw pair's material channel (`grey+material`, `grey+material+deep`). */
export function readsMaterial(card: Pick<ModelCard, 'input'>): boolean {
  return card.input.channels.startsWith('grey+material');
}

/**
 * Whether a card's model also reads the deep plane (`grey+material+deep`). A card without an input block (a stand-in
 * runtime's, in tests) reads none: the pipeline asks before every raw pair's preprocessing and must not fail a scan.
 */
export function readsDeep(card: Pick<ModelCard, 'input'>): boolean {
  return card.input?.channels === 'grey+material+deep';
}

export class ModelCardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelCardError';
  }
}

const TASKS = ['classify', 'detect', 'embed', 'verify'];
const LAYOUTS = ['logits', 'multilabel-logits', 'yolov8', 'grid-logits', 'embedding', 'window-map'];
const CHANNELS: Record<string, number> = { grey: 1, rgb: 3, 'grey+material': 2, 'grey+material+deep': 3 };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates a parsed card; throws ModelCardError naming every missing or wrong field. */
export function validateCard(raw: unknown, where = 'model card'): ModelCard {
  const errs: string[] = [];
  if (!isObj(raw)) throw new ModelCardError(`${where}: not a JSON object`);
  const str = (k: string): void => { if (typeof raw[k] !== 'string' || raw[k] === '') errs.push(`${k} (non-empty string)`); };
  ['name', 'version', 'sha256', 'file'].forEach(str);
  if (typeof raw.sha256 === 'string' && !/^[0-9a-f]{64}$/.test(raw.sha256)) errs.push('sha256 (64 lowercase hex digits)');
  if (!TASKS.includes(raw.task as string)) errs.push(`task (one of ${TASKS.join(', ')})`);
  if (!MODALITIES.includes(raw.modality as Modality)) errs.push(`modality (one of ${MODALITIES.join(', ')})`);
  if (raw.modalities !== undefined && !(Array.isArray(raw.modalities) && raw.modalities.every((m) => MODALITIES.includes(m as Modality)))) errs.push('modalities (list of modalities)');
  const input = raw.input;
  if (!isObj(input)) errs.push('input');
  else {
    const sh = input.shape;
    if (!Array.isArray(sh) || sh.length !== 4 || ![1, 2, 3].every((i) => Number.isInteger(sh[i]) && (sh[i] as number) > 0)) errs.push('input.shape ([N, C, H, W] with C, H, W positive integers)');
    else if (sh[1] !== CHANNELS[input.channels as string] && CHANNELS[input.channels as string] !== undefined) errs.push('input.shape[1] (must match input.channels)');
    if (CHANNELS[input.channels as string] === undefined) errs.push('input.channels (grey, rgb, grey+material or grey+material+deep)');
    // the material channel exists only in a verifier's windows of a container scan sent as a raw pair
    else if (input.channels === 'grey+material' && raw.task !== 'verify') errs.push('input.channels (grey+material: verify models only)');
    // the deep plane is read by the lattice form only (the windowed one samples two planes at most)
    else if (input.channels === 'grey+material+deep' && (raw.task !== 'verify' || !isObj(raw.output) || raw.output.layout !== 'window-map')) {
      errs.push('input.channels (grey+material+deep: verify models of layout window-map only)');
    }
    const n = input.normalisation;
    if (!isObj(n) || !Array.isArray(n.mean) || !Array.isArray(n.std) || n.mean.length === 0 || n.std.length !== n.mean.length || [...n.mean, ...n.std].some((v) => typeof v !== 'number') || n.std.some((v) => v === 0)) {
      errs.push('input.normalisation ({ mean: number[], std: number[] non-zero, same length })');
    }
    if (!['letterbox', 'stretch', 'tile'].includes(input.resize as string)) errs.push('input.resize (letterbox, stretch or tile)');
  }
  if (!isObj(raw.output) || typeof raw.output.name !== 'string' || !LAYOUTS.includes(raw.output.layout as string)) errs.push(`output ({ name, layout: ${LAYOUTS.join(' | ')} })`);
  if (!Array.isArray(raw.labels) || raw.labels.length === 0 || raw.labels.some((l) => typeof l !== 'string')) errs.push('labels (non-empty string list)');
  if (!isObj(raw.thresholds)) errs.push('thresholds (label → number)');
  else if (Array.isArray(raw.labels)) {
    for (const l of raw.labels) if (typeof raw.thresholds[l as string] !== 'number') errs.push(`thresholds.${String(l)}`);
  }
  if (raw.task === 'detect' && isObj(raw.output) && raw.output.layout !== 'yolov8' && raw.output.layout !== 'grid-logits') errs.push('output.layout (detect models: yolov8 or grid-logits)');
  if (isObj(raw.output) && raw.output.layout === 'grid-logits' && !(Number.isInteger(raw.output.stride) && (raw.output.stride as number) > 0)) errs.push('output.stride (a positive integer for grid-logits)');
  if (raw.task === 'classify' && isObj(raw.output) && raw.output.layout !== 'logits' && raw.output.layout !== 'multilabel-logits') errs.push('output.layout (classify models: logits or multilabel-logits)');
  if (raw.task === 'verify') {
    const v = raw.verifies;
    const num = (k: string, lo: number, hi: number, int = false): boolean => isObj(v) && typeof v[k] === 'number' && (v[k] as number) >= lo && (v[k] as number) <= hi && (!int || Number.isInteger(v[k]));
    if (!isObj(v) || typeof v.model !== 'string' || v.model === '' || !num('proposalThreshold', 1e-6, 1 - 1e-6) || !num('maxProposals', 1, 1000, true) || !num('window', 1, 10000) || !num('minWindowPixels', 1, 10000)) {
      errs.push('verifies ({ model, proposalThreshold in (0, 1), maxProposals 1..1000, window > 0, minWindowPixels > 0 })');
    }
    if (isObj(v) && v.denseStride !== undefined && !num('denseStride', 1, 10000)) errs.push('verifies.denseStride (input pixels, > 0)');
    if (isObj(v) && v.neighbourRadius !== undefined && !num('neighbourRadius', 1e-6, 10000)) errs.push('verifies.neighbourRadius (input pixels, > 0)');
    const fusion = isObj(v) ? v.fusion : undefined;
    // four terms weigh the neighbouring windows, so they need a neighbourRadius; three never do
    const terms = isObj(v) && v.neighbourRadius !== undefined ? 4 : 3;
    if (fusion !== undefined && !(isObj(fusion) && Object.values(fusion).every((f) => Array.isArray(f) && f.length === terms && f.every((x) => typeof x === 'number' && Number.isFinite(x))))) {
      errs.push(terms === 4 ? 'verifies.fusion (label → [a, b, d, c] finite numbers, with neighbourRadius)' : 'verifies.fusion (label → [a, b, c] finite numbers)');
    }
    if (isObj(raw.output) && raw.output.layout !== 'multilabel-logits' && raw.output.layout !== 'window-map') errs.push('output.layout (verify models: multilabel-logits or window-map)');
    if (isObj(raw.output) && raw.output.layout === 'window-map') {
      // a window is input.shape's square, a whole number of lattice cells a side
      const sh = isObj(raw.input) && Array.isArray(raw.input.shape) ? raw.input.shape : [];
      const st = raw.output.stride;
      if (!(Number.isInteger(st) && (st as number) > 0 && sh[2] === sh[3] && Number.isInteger(sh[2]) && (sh[2] as number) % (st as number) === 0)) {
        errs.push('output.stride (window-map: a positive integer dividing the square window input.shape[2] × [3])');
      }
    }
  } else if (isObj(raw.output) && raw.output.layout === 'window-map') {
    errs.push('output.layout (window-map: verify models only)');
  }
  if (errs.length > 0) throw new ModelCardError(`${where}: missing or invalid ${errs.join('; ')}`);
  return raw as unknown as ModelCard;
}

export function sha256Hex(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

export interface LoadedModel { card: ModelCard; bytes: Uint8Array; path: string; }

/** Reads and checks one card and its .onnx; throws on a bad card or a sha256 mismatch. */
export async function loadModel(cardPath: string): Promise<LoadedModel> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(cardPath, 'utf8'));
  } catch (e) {
    throw new ModelCardError(`${cardPath}: cannot read card: ${e instanceof Error ? e.message : String(e)}`);
  }
  const card = validateCard(raw, cardPath);
  const dir = cardPath.slice(0, cardPath.length - basename(cardPath).length) || '.';
  const path = join(dir, card.file);
  const bytes = new Uint8Array(await readFile(path));
  const actual = sha256Hex(bytes);
  if (actual !== card.sha256) {
    throw new ModelCardError(`${path}: sha256 ${actual} does not match its card (${card.sha256}); refusing to load a model the card does not describe`);
  }
  return { card, bytes, path };
}

/** Every `*.card.json` in `dir` (sorted by name), each checked; a missing dir gives no models. */
export async function loadRegistry(dir: string): Promise<LoadedModel[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const cards = names.filter((n) => n.endsWith('.card.json')).sort();
  const out: LoadedModel[] = [];
  for (const c of cards) out.push(await loadModel(join(dir, c)));
  return out;
}

/** The modalities a card serves: `modality` plus the optional `modalities` list. */
export function cardModalities(card: ModelCard): Modality[] {
  return [...new Set([card.modality, ...(card.modalities ?? [])])];
}

/**
 * The score under which a detector or verifier emits no detection of `label`: its card's threshold, or the
 * layout's default (0.25 for a YOLO export, as Ultralytics; 0.5 for grid cells and a verifier's windows).
 */
export function emissionThreshold(card: ModelCard, label: string): number {
  return card.thresholds[label] ?? (card.task === 'detect' && card.output.layout === 'yolov8' ? 0.25 : 0.5);
}

/**
 * Where a modality's detections come from, for the policy's check of its thresholds against the models'
 * (domain/policy `thresholdsUnderModelFloors`): each verifier with the detector it confirms, and each detector
 * no verifier confirms.
 */
export function detectionSources(cards: readonly ModelCard[]): DetectionSource[] {
  const floor = (c: ModelCard) => Object.fromEntries(c.labels.map((l) => [l, emissionThreshold(c, l)]));
  return cards.flatMap((d) => {
    if (d.task !== 'detect') return [];
    const verifiers = cards.filter((v) => v.task === 'verify' && v.verifies?.model === d.name);
    return verifiers.length ? verifiers.map((v) => ({ models: [v.name, d.name], floor: floor(v) })) : [{ models: [d.name], floor: floor(d) }];
  });
}
