// Runs one model (card + verified .onnx) over a labelled dataset and builds the report: the model is run
// through the same preprocessing and post-processing as serving, with thresholds lowered for the curves.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { Box } from '../../domain/verdict.js';
import { postprocess, prepare } from '../runtime/index.js';
import { loadModel } from '../runtime/registry.js';
import { SessionPool } from '../runtime/session.js';
import type { ModelCard, Rendering } from '../runtime/types.js';
import { labelMapper, readCoco, readFolders, readYolo } from './data.js';
import { classificationReport, DEFAULT_TABLE, describeRule, detectionConfusion, detectionReport, IOU50, matchImage, type GtBox, type MatchRule, type PredBox } from './metrics.js';

export type DataFormat = 'yolo' | 'coco' | 'folders';

/** Decodes any 8- or 16-bit image file into a rendering with the channels the card wants. */
export async function readRendering(path: string, channels: 1 | 3): Promise<Rendering> {
  let img = sharp(await readFile(path)).removeAlpha();
  img = channels === 1 ? img.toColourspace('b-w') : img.toColourspace('srgb');
  const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const ch = info.channels === 1 ? 1 : 3;
  return { width: info.width, height: info.height, channels: ch, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export interface EvalOptions { modelPath: string; dataDir: string; format: DataFormat; names?: Record<string, string>; threads?: number; }

async function resolveCard(modelPath: string): Promise<string> {
  if (modelPath.endsWith('.card.json')) return modelPath;
  if (modelPath.endsWith('.onnx')) return modelPath.slice(0, -'.onnx'.length) + '.card.json';
  throw new Error(`--model must be a .card.json or an .onnx with its card beside it: ${modelPath}`);
}

export async function evaluate(o: EvalOptions) {
  const loaded = await loadModel(await resolveCard(o.modelPath));
  const card: ModelCard = loaded.card;
  const pool = await SessionPool.create(loaded.bytes, { intraOpNumThreads: o.threads ?? 2, poolSize: 1 });
  // curves need every candidate: decode at a low threshold, keep the card's thresholds for the point metrics
  const low: ModelCard = { ...card, thresholds: Object.fromEntries(card.labels.map((l) => [l, Math.min(0.01, card.thresholds[l] ?? 0.01)])) };
  const [, c, h, w] = card.input.shape as [unknown, number, number, number];
  const channels = c === 1 ? 1 : 3;
  const infer = async (path: string) => {
    const r = await readRendering(path, channels);
    const p = prepare(low, r);
    const out = await pool.run(pool.inputNames.includes('images') ? 'images' : (pool.inputNames[0] as string), p.tensor, [1, c, h, w], card.output.name);
    return { r, out: postprocess(low, out.data, out.dims, 0, p) };
  };
  const mapper = labelMapper(card.labels, o.names ?? {}, o.format === 'folders');
  try {
    if (card.task === 'classify') {
      if (o.format !== 'folders') throw new Error('a classifier is evaluated on --format folders');
      const items: Array<{ truth: string; scores: Record<string, number>; image: string }> = [];
      for (const it of await readFolders(o.dataDir)) {
        const truth = mapper.map(it.label);
        if (!truth) continue;
        const { out } = await infer(it.image);
        items.push({ truth, scores: out.scores ?? {}, image: it.image });
      }
      const rep = classificationReport(items, card.labels, card.thresholds, DEFAULT_TABLE);
      return { model: { name: card.name, version: card.version, task: card.task }, data: { dir: o.dataDir, format: o.format, unmapped: Object.fromEntries(mapper.unmapped) }, ...rep };
    }
    if (o.format === 'folders') throw new Error('a detector is evaluated on --format yolo or coco');
    const ds = o.format === 'yolo' ? await readYolo(o.dataDir) : await readCoco(o.dataDir);
    const images: Array<{ preds: PredBox[]; gts: GtBox[] }> = [];
    for (const it of ds.items) {
      const { r, out } = await infer(it.image);
      const gts: GtBox[] = [];
      for (const b of it.boxes) {
        const label = mapper.map(b.label);
        if (!label) continue;
        const box: Box = it.normalised ? [b.box[0] * r.width, b.box[1] * r.height, b.box[2] * r.width, b.box[3] * r.height] : b.box;
        gts.push({ label, box });
      }
      images.push({ preds: (out.detections ?? []).map((d) => ({ label: d.label, score: d.score, box: d.box })), gts });
    }
    // Grid detectors localise to whole cells: a box is found when its centre lies in a predicted region.
    const rule: MatchRule = card.output.layout === 'grid-logits' ? { kind: 'centre' } : IOU50;
    const matched = images.map((im) => matchImage(im.preds, im.gts, rule));
    const rep = detectionReport(matched, card.labels, card.thresholds, DEFAULT_TABLE);
    return { model: { name: card.name, version: card.version, task: card.task }, data: { dir: o.dataDir, format: o.format, unmapped: Object.fromEntries(mapper.unmapped) }, thresholds: card.thresholds, ...rep, match: describeRule(rule), confusion: detectionConfusion(images, card.labels, card.thresholds, rule) };
  } finally {
    await pool.close();
  }
}
