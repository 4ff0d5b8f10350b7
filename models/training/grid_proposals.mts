// Runs the committed container threat grid over a dataset's renderings exactly as the pipeline does (the
// shared downscale for every container model, then the card's letterbox) and writes its raw per-cell logits
// and the input → rendering mapping, for train_verifier.py to pick proposals and crop them at full resolution.
// Run: npx tsx models/training/grid_proposals.mts <dataset dir> [registry dir] [--geometry-only]
//   → <dataset dir>/grid.bin (float32 [n, classes, gh, gw]) and grid.json (ids, dims, mapping per image)
// --geometry-only writes grid.json's mapping alone (no grid run, no grid.bin, dims [n]): what fcn_verifier.py's
// fine-tuning reads of a training set, e.g. on a machine without ONNX Runtime's Node binding (gpu_finetune.sh).
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadRegistry, prepare, sharedDownscale, type ModelCard, type Rendering } from '../runtime/index.js';
import { cardModalities } from '../runtime/registry.js';

const args = process.argv.slice(2);
const geometryOnly = args.includes('--geometry-only');
const [dir, registryDir = 'models/registry'] = args.filter((a) => !a.startsWith('--'));
if (!dir) throw new Error('usage: grid_proposals.mts <dataset dir> [registry dir]');
const loaded = await loadRegistry(registryDir);
const containerCards = loaded.map((m) => m.card).filter((c) => cardModalities(c).includes('container-xray'));
const grid = loaded.find((m) => m.card.output.layout === 'grid-logits' && cardModalities(m.card).includes('container-xray'));
if (!grid) throw new Error(`no container grid detector in ${registryDir}`);
const card: ModelCard = grid.card;
const ort = geometryOnly ? null : await import('onnxruntime-node');
const session = ort ? await ort.InferenceSession.create(grid.bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' }) : null;
const [, c, h, w] = card.input.shape as [unknown, number, number, number];
const ids = (await readdir(join(dir, 'images'))).filter((f) => f.endsWith('.png')).sort();
const chunks: Buffer[] = [];
const images: Array<Record<string, unknown>> = [];
let dims: readonly number[] = [];
const t0 = Date.now();
for (let i = 0; i < ids.length; i++) {
  const { data, info } = await sharp(join(dir, 'images', ids[i]!)).greyscale().raw().toBuffer({ resolveWithObject: true });
  const r: Rendering = { width: info.width, height: info.height, channels: 1, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  const shared = sharedDownscale(r, containerCards, true);
  const p = prepare(card, shared.rendering);
  if (ort && session) {
    const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', p.tensor, [1, c, h, w]) });
    const t = out[card.output.name]!;
    dims = t.dims;
    const f = t.data as Float32Array;
    chunks.push(Buffer.from(f.buffer, f.byteOffset, f.byteLength));
  }
  // rendering x = ((input x - padX) / sx) * sharedSx
  images.push({ id: ids[i]!.replace(/\.png$/, ''), width: r.width, height: r.height, padX: p.place.padX, padY: p.place.padY, sx: p.place.sx / shared.sx, sy: p.place.sy / shared.sy });
  if ((i + 1) % 200 === 0) process.stderr.write(`${i + 1}/${ids.length} in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
}
if (!geometryOnly) await writeFile(join(dir, 'grid.bin'), Buffer.concat(chunks));
await writeFile(join(dir, 'grid.json'), JSON.stringify({ model: card.name, version: card.version, labels: card.labels, stride: card.output.stride, dims: [ids.length, ...dims.slice(1)], images }) + '\n');
process.stderr.write(geometryOnly ? `wrote the grid's mapping of ${ids.length} renderings to ${dir}/grid.json\n` : `wrote grid logits of ${ids.length} renderings to ${dir}/grid.bin\n`);
