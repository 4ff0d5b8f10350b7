// Benchmark 4: preprocessing one 40 ft container as a 16-bit dual-energy pair of 2048 × 6000: decode both
// (sharp, 16-bit kept), render the grey transmission image and the material channel, encode both, as the
// preprocess stage does. Time and peak memory, measured in a child process of its own so the peak RSS is
// this work's alone; the material channel's share is reported beside the total, and the deep plane's (render + PNG,
// made only while a verifier that reads it is loaded) beside that, outside the total.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { renderContainerDeep, renderContainerGrey, renderContainerMaterial } from '../models/runtime/render.js';
import { decodeImage } from '../pipeline/imaging.js';
import { materialPng, renderingPng } from '../pipeline/stages/preprocess.js';
import { round, summary } from './common.js';

const WIDTH = 6000;
const HEIGHT = 2048;

async function pair(): Promise<{ high: Buffer; low: Buffer }> {
  const high = new Uint16Array(WIDTH * HEIGHT);
  const low = new Uint16Array(WIDTH * HEIGHT);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const cargo = x > 300 && x < 5700 && y > 200 && y < 1900 ? 1 : 0;
      const n = ((x * 73856093) ^ (y * 19349663)) & 1023;
      high[y * WIDTH + x] = 60000 - cargo * (30000 + ((x >> 6) % 7) * 2000) + n;
      low[y * WIDTH + x] = 58000 - cargo * (42000 + ((x >> 6) % 7) * 1500) + n;
    }
  }
  const png = (a: Uint16Array) => sharp(a, { raw: { width: WIDTH, height: HEIGHT, channels: 1 } }).toColourspace('grey16').png({ compressionLevel: 3 }).toBuffer();
  return { high: await png(high), low: await png(low) };
}

/** Runs inside the child: returns ms per scan over `runs` scans. */
async function child(runs: number): Promise<void> {
  const { high, low } = await pair();
  const baseline = process.resourceUsage().maxRSS;
  const times: number[] = [];
  const material: number[] = [];
  const deep: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const h = await decodeImage(high, { grey: true, maxPixels: 40_000_000 });
    const l = await decodeImage(low, { grey: true, maxPixels: 40_000_000 });
    const r = renderContainerGrey(h.data, h.width, h.height, h.bitDepth, l.data);
    await renderingPng(r);
    const t1 = performance.now();
    await materialPng(renderContainerMaterial(h.data, l.data, h.width, h.height, h.bitDepth));
    const t2 = performance.now();
    await materialPng(renderContainerDeep(h.data, h.width, h.height, h.bitDepth));
    const t3 = performance.now();
    times.push(t2 - t0);
    material.push(t2 - t1);
    deep.push(t3 - t2);
  }
  const peak = process.resourceUsage().maxRSS;
  process.stdout.write(JSON.stringify({ times, material, deep, baselineMaxRssKiB: baseline, peakMaxRssKiB: peak, pngBytes: { high: high.length, low: low.length } }));
}

export async function preprocessBench(runs = 5) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', String(runs)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`preprocess child failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { times: number[]; material: number[]; deep: number[]; baselineMaxRssKiB: number; peakMaxRssKiB: number; pngBytes: unknown };
  const result = {
    scan: { width: WIDTH, height: HEIGHT, bitDepth: 16, images: 2, pngBytes: out.pngBytes },
    msPerScan: summary(out.times),
    /** Of which the material channel (render + PNG), for the threat verifier of raw pairs. */
    materialMsPerScan: summary(out.material),
    /** Not in msPerScan: the deep plane (render + PNG), only while a verifier that reads it is loaded. */
    deepMsPerScan: summary(out.deep),
    peakRssMiB: round(out.peakMaxRssKiB / 1024, 0),
    rssAboveInputsMiB: round((out.peakMaxRssKiB - out.baselineMaxRssKiB) / 1024, 0),
  };
  console.log(`preprocess 2×${WIDTH}×${HEIGHT}×16 bit: p50 ${result.msPerScan.p50} ms/scan, peak RSS ${result.peakRssMiB} MiB`);
  return result;
}

if (process.argv[2] === '--child') await child(Number(process.argv[3] ?? 5));
