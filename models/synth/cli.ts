// `npm run synth -- --seed N --count K --out dir [--kind container|parcel] [--full-size] [--mmpp X]
// [--input WxH] [--no-raw] [--threat-rate P] [--threats-per-scan MIN-MAX] [--threat-classes a,b]
// [--categories a,b] [--reefer-rate P] [--material] [--deep]`:
// writes a deterministic synthetic dataset.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CARGO_CATEGORIES, CONTAINER_THREATS, type CargoCategory, type ContainerThreat } from '../../domain/categories.js';
import { CLASSIFY_LABELS, DETECT_LABELS, GENERATOR_VERSION, makeSample, writeSample, type SynthKind } from './index.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' }, count: { type: 'string' }, out: { type: 'string' }, kind: { type: 'string', default: 'container' },
      'full-size': { type: 'boolean', default: false }, mmpp: { type: 'string' }, input: { type: 'string' }, 'no-raw': { type: 'boolean', default: false },
      'threat-rate': { type: 'string' }, material: { type: 'boolean', default: false }, start: { type: 'string', default: '0' },
      'threats-per-scan': { type: 'string' }, 'threat-classes': { type: 'string' }, categories: { type: 'string' },
      'reefer-rate': { type: 'string' }, deep: { type: 'boolean', default: false },
    },
  });
  const seed = Number(values.seed), count = Number(values.count), start = Number(values.start);
  if (!Number.isInteger(seed) || !Number.isInteger(count) || count < 1 || !values.out) {
    throw new Error('usage: synth --seed N --count K --out DIR [--kind container|parcel] [--full-size] [--mmpp X] [--input WxH] [--no-raw] [--threat-rate P] [--threats-per-scan MIN-MAX] [--threat-classes a,b] [--categories a,b] [--reefer-rate P] [--material] [--deep]');
  }
  const kind = values.kind as SynthKind;
  if (kind !== 'container' && kind !== 'parcel') throw new Error(`--kind must be container or parcel, got ${values.kind}`);
  let input: { width: number; height: number } | undefined;
  if (values.input) {
    const m = /^(\d+)x(\d+)$/.exec(values.input);
    if (!m) throw new Error(`--input must be WxH, got ${values.input}`);
    input = { width: Number(m[1]), height: Number(m[2]) };
  }
  let threatsPerScan: [number, number] | undefined;
  if (values['threats-per-scan']) {
    const m = /^(\d+)-(\d+)$/.exec(values['threats-per-scan']);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new Error(`--threats-per-scan must be MIN-MAX with 1 <= MIN <= MAX, got ${values['threats-per-scan']}`);
    threatsPerScan = [Number(m[1]), Number(m[2])];
  }
  let threatClasses: ContainerThreat[] | undefined;
  if (values['threat-classes']) {
    threatClasses = values['threat-classes'].split(',') as ContainerThreat[];
    const bad = threatClasses.filter((c) => !(CONTAINER_THREATS as readonly string[]).includes(c));
    if (bad.length) throw new Error(`--threat-classes: unknown ${bad.join(', ')} (known: ${CONTAINER_THREATS.join(', ')})`);
  }
  let categories: CargoCategory[] | undefined;
  if (values.categories) {
    // the cargo of every scan drawn from these (training sets aimed at the loads a model confuses most)
    categories = values.categories.split(',') as CargoCategory[];
    const bad = categories.filter((c) => !(CARGO_CATEGORIES as readonly string[]).includes(c));
    if (bad.length) throw new Error(`--categories: unknown ${bad.join(', ')} (known: ${CARGO_CATEGORIES.join(', ')})`);
  }
  let reeferRate: number | undefined;
  if (values['reefer-rate'] !== undefined) {
    reeferRate = Number(values['reefer-rate']);
    if (!(reeferRate >= 0 && reeferRate <= 1)) throw new Error(`--reefer-rate must be a probability between 0 and 1, got ${values['reefer-rate']}`);
  }
  if ((threatsPerScan || threatClasses || categories || reeferRate !== undefined) && kind !== 'container') throw new Error('--threats-per-scan, --threat-classes, --categories and --reefer-rate are for containers');
  const out = values.out;
  await mkdir(out, { recursive: true });
  const names = { detect: DETECT_LABELS[kind], classify: kind === 'container' ? CLASSIFY_LABELS : [] };
  await writeFile(join(out, 'names.json'), JSON.stringify(names, null, 2) + '\n');
  await writeFile(join(out, 'dataset.json'), JSON.stringify({ generator: GENERATOR_VERSION, kind, seed, start, count, fullSize: values['full-size'], mmpp: values.mmpp ?? null, input: values.input ?? null, threatRate: values['threat-rate'] ?? null, threatsPerScan: values['threats-per-scan'] ?? null, threatClasses: values['threat-classes'] ?? null, categories: values.categories ?? null, reeferRate: reeferRate ?? null, material: values.material, ...(values.deep ? { deep: true } : {}) }, null, 2) + '\n');
  const t0 = Date.now();
  let pending: Array<Promise<void>> = [];
  for (let i = start; i < start + count; i++) {
    const s = makeSample(kind, seed, i, {
      fullSize: values['full-size'],
      ...(values.mmpp ? { mmpp: Number(values.mmpp) } : {}),
      ...(values['threat-rate'] ? { threatRate: Number(values['threat-rate']) } : {}),
      ...(threatsPerScan ? { threatsPerScan } : {}),
      ...(threatClasses ? { threatClasses } : {}),
      ...(categories ? { categories } : {}),
      ...(reeferRate !== undefined ? { reeferRate } : {}),
    });
    pending.push(writeSample(out, s, { raw: !values['no-raw'], material: values.material, deep: values.deep, ...(input ? { input } : {}) }));
    if (pending.length >= 8) { await Promise.all(pending); pending = []; }
    if ((i - start + 1) % 500 === 0) process.stderr.write(`${i - start + 1}/${count} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  await Promise.all(pending);
  process.stderr.write(`wrote ${count} ${kind} samples to ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
