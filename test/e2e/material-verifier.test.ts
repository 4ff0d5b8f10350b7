// A container sent as a raw dual-energy pair gets a material channel beside its grey rendering, and the threat
// verifier that reads it (container-threat-verify-de) re-scores the grid's proposals; the same container sent as
// a rendering only is verified by the grey model. Through HTTP, the pipeline and the committed models.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIME_REVISION } from '../../models/runtime/index.js';
import { renderContainerGrey } from '../../models/runtime/render.js';
import type { ModelOutput } from '../../models/runtime/types.js';
import { containerSample } from '../../models/synth/container.js';
import { png16Of, pngOf } from '../../models/synth/index.js';
import { Rng } from '../../models/synth/prng.js';
import type { PipelineDeps } from '../../pipeline/deps.js';
import type { StageNext } from '../../pipeline/jobs.js';
import { inferHandler } from '../../pipeline/stages/infer.js';
import { materialKey, preprocessHandler } from '../../pipeline/stages/preprocess.js';
import { scansRepo } from '../../storage/repos/scans.js';
import { committedModels, type TestRuntime } from '../helpers/models.js';
import { getJson, pollUntil, pushScan } from '../helpers/push.js';
import { startStack, type TestStack } from '../helpers/stack.js';

let models: TestRuntime;
let stack: TestStack;
// a 40 ft box at a scanner's 6 mm/px with a knife among the cargo
const s = containerSample(Rng.forSample(4343, 5), { mmpp: 6, threatRate: 0.7 });

beforeAll(async () => {
  models = await committedModels(['container-threat-grid', 'container-threat-verify', 'container-threat-verify-de'], { intraOpNumThreads: 1 });
  stack = await startStack({ runtime: models.runtime });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await models?.close();
});

const meta = (scanId: string) => ({ scanId, scannerId: 'H986-QD-01', modality: 'container-xray', containerNo: 'CSQU3054383', capturedAt: '2026-11-23T08:00:00Z' });

async function threatOutput(scanId: string, images: Record<string, Buffer>): Promise<ModelOutput> {
  const res = await pushScan(stack.url, { key: stack.key, metadata: meta(scanId), images });
  expect(res.status).toBe(202);
  const scans = scansRepo(stack.db.db);
  const scan = await pollUntil(() => scans.get(scanId), (x) => Boolean(x?.inference), 60_000, 100);
  const outputs = (scan!.inference as { outputs: ModelOutput[] }).outputs;
  return outputs.find((o) => o.model === 'container-threat-grid')!;
}

describe('dual-energy threat verification', () => {
  it('verifies a raw pair with the material model, stores the material channel, and still finds the knife', async () => {
    expect(s.threats.map((t) => t.label)).toContain('knife');
    const out = await threatOutput('de-raw-1', { high: await png16Of(s.high, s.width, s.height), low: await png16Of(s.low, s.width, s.height) });
    expect(out.verifiedBy?.model).toBe('container-threat-verify-de');
    const knife = s.threats.find((t) => t.label === 'knife')!;
    const found = out.detections!.filter((d) => d.label === 'knife');
    expect(found.length).toBe(1);
    const [x0, y0, x1, y1] = found[0]!.box;
    expect(x0 < knife.box[2] && knife.box[0] < x1 && y0 < knife.box[3] && knife.box[1] < y1).toBe(true);
    // stored for infer in another worker process: one channel, the rendering's size
    const meta = await sharp(await stack.objects.get(materialKey('de-raw-1'))).metadata();
    const scan = await scansRepo(stack.db.db).get('de-raw-1');
    expect([meta.channels, meta.width, meta.height]).toEqual([1, scan!.rendering!.width, scan!.rendering!.height]);
    // the grey rendering is stored as one channel too, and reads back as rendered (default window)
    const stored = await stack.objects.get(scan!.renderingKey!);
    expect((await sharp(stored).metadata()).channels).toBe(1);
    const pixels = await sharp(stored).extractChannel(0).raw().toBuffer();
    expect(Buffer.compare(pixels, Buffer.from(renderContainerGrey(s.high, s.width, s.height, 16).data))).toBe(0);
    // the verdict names every model that gave evidence and the runtime revision that prepared their inputs
    const done = await pollUntil(() => getJson(stack.url, '/v1/scans/de-raw-1', stack.key), (r) => r.body.verdict != null, 30_000);
    const verdict = done.body.verdict as { models: Array<{ name: string }>; runtime?: string };
    expect(verdict.models.map((m) => m.name)).toContain('container-threat-verify-de');
    expect(verdict.runtime).toBe(RUNTIME_REVISION);
  });

  it('reads the stored material channel back when infer runs in another process (no shared rendering cache)', async () => {
    // a stack without workers: the two stages are run here, each with only the database and the object store
    const api = await startStack({ workers: false });
    const own = await committedModels(['container-threat-grid', 'container-threat-verify', 'container-threat-verify-de'], { intraOpNumThreads: 1 });
    try {
      const res = await pushScan(api.url, { key: api.key, metadata: meta('de-raw-2'), images: { high: await png16Of(s.high, s.width, s.height), low: await png16Of(s.low, s.width, s.height) } });
      expect(res.status).toBe(202);
      const deps = { db: api.db.db, objects: api.objects, runtime: own.runtime, maxImagePixels: api.config.maxImagePixels, now: () => new Date() } as unknown as PipelineDeps;
      // each stage reads the scan itself (nothing carried over, as in another process)
      const pre = await preprocessHandler(deps)({ scanId: 'de-raw-2' });
      expect(pre).toMatchObject({ next: 'infer', scan: { status: 'preprocessed' } });
      // as the worker does when infer runs elsewhere: the status preprocess left to infer is stored first
      await (pre as StageNext).save!();
      expect((await scansRepo(api.db.db).get('de-raw-2'))!.status).toBe('preprocessed');
      expect(await inferHandler(deps)({ scanId: 'de-raw-2' })).toMatchObject({ next: 'assess', scan: { status: 'inferred' } });
      const scan = await scansRepo(api.db.db).get('de-raw-2');
      const out = (scan!.inference as { outputs: ModelOutput[] }).outputs.find((o) => o.model === 'container-threat-grid')!;
      expect(out.verifiedBy?.model).toBe('container-threat-verify-de');
      expect(out.detections!.some((d) => d.label === 'knife')).toBe(true);
    } finally {
      await api.close();
      await own.close();
    }
  }, 60_000);

  it('verifies the same container sent as a rendering only with the grey model, and stores no material channel', async () => {
    const out = await threatOutput('de-grey-1', { image: await pngOf(s.rendering) });
    expect(out.verifiedBy?.model).toBe('container-threat-verify');
    expect(out.detections!.some((d) => d.label === 'knife')).toBe(true);
    expect(await stack.objects.stat(materialKey('de-grey-1'))).toBeNull();
  });
});
