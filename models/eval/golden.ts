// Golden outputs of the committed models on fixed synthetic inputs (generator seed 424242), so a changed
// model, runtime or generator shows up in tests. `npx tsx models/eval/golden.ts --write` refreshes the file.
import { readFile, writeFile } from 'node:fs/promises';
import { createModelRuntime, renderContainerMaterial } from '../runtime/index.js';
import type { ModelOutput } from '../runtime/types.js';
import { makeSample, type SynthKind } from '../synth/index.js';

export const GOLDEN_PATH = 'test/fixtures/models/golden.json';
export const GOLDEN_INPUTS: ReadonlyArray<{ kind: SynthKind; seed: number; index: number; threatRate: number; mmpp?: number; material?: boolean }> = [
  { kind: 'container', seed: 424242, index: 0, threatRate: 1 },
  { kind: 'container', seed: 424242, index: 1, threatRate: 1 },
  // a scanner's own resolution: the threat detector's second stage looks at this one again
  { kind: 'container', seed: 424242, index: 1, threatRate: 1, mmpp: 6 },
  // the same sent as a raw pair: its material channel goes to the dual-energy verifier
  { kind: 'container', seed: 424242, index: 1, threatRate: 1, mmpp: 6, material: true },
  { kind: 'parcel', seed: 424242, index: 0, threatRate: 1 },
  { kind: 'parcel', seed: 424242, index: 1, threatRate: 1 },
];

export type Golden = Record<string, Array<{ input: string; output: ModelOutput }>>;

export async function computeGolden(registryDir = 'models/registry'): Promise<Golden> {
  const rt = await createModelRuntime({ registryDir, maxBatch: 1 });
  const out: Golden = {};
  try {
    for (const g of GOLDEN_INPUTS) {
      const s = makeSample(g.kind, g.seed, g.index, { threatRate: g.threatRate, ...(g.mmpp && { mmpp: g.mmpp }) });
      const modality = g.kind === 'container' ? 'container-xray' : 'parcel-xray';
      const extra = g.material ? { material: renderContainerMaterial(s.high, s.low, s.width, s.height, 16) } : {};
      const input = `${g.kind}-${g.seed}-${g.index}${g.mmpp ? `-${g.mmpp}mm` : ''}${g.material ? '-material' : ''}`;
      for (const o of await rt.infer(modality, s.rendering, extra)) (out[o.model] ??= []).push({ input, output: o });
    }
  } finally {
    await rt.close();
  }
  return out;
}

export async function readGolden(): Promise<Golden> {
  return JSON.parse(await readFile(GOLDEN_PATH, 'utf8')) as Golden;
}

if (process.argv.includes('--write')) {
  const g = await computeGolden();
  await writeFile(GOLDEN_PATH, JSON.stringify(g, null, 1) + '\n');
  process.stdout.write(`wrote ${GOLDEN_PATH}: ${Object.keys(g).join(', ')}\n`);
}
