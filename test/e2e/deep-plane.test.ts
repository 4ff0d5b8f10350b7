// The pipeline makes a raw-pair container's deep plane (renderContainerDeep) only while a loaded verifier reads it,
// stores it beside the material channel, and infer, run with nothing carried over from preprocess (another worker
// process), reads it back and gives the scan to that verifier. A hand-set three-plane verifier stands in for one
// (test/fixtures/models/tiny-deep/tiny-verify-deep) beside the committed grid and grey verifier.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderContainerDeep } from '../../models/runtime/render.js';
import type { ModelOutput, ModelRuntime } from '../../models/runtime/types.js';
import { containerSample } from '../../models/synth/container.js';
import { png16Of } from '../../models/synth/index.js';
import { Rng } from '../../models/synth/prng.js';
import type { PipelineDeps } from '../../pipeline/deps.js';
import type { StageNext } from '../../pipeline/jobs.js';
import { inferHandler } from '../../pipeline/stages/infer.js';
import { deepKey, materialKey, preprocessHandler } from '../../pipeline/stages/preprocess.js';
import { scansRepo } from '../../storage/repos/scans.js';
import { committedModels, TINY_DEEP_VERIFIER, type TestRuntime } from '../helpers/models.js';
import { pushScan } from '../helpers/push.js';
import { startStack, type TestStack } from '../helpers/stack.js';

let deep: TestRuntime;
let plain: TestRuntime;
let api: TestStack;
const s = containerSample(Rng.forSample(4343, 5), { mmpp: 6, threatRate: 0.7 });

beforeAll(async () => {
  deep = await committedModels(['container-threat-grid', 'container-threat-verify'], { intraOpNumThreads: 1 }, undefined, TINY_DEEP_VERIFIER);
  plain = await committedModels(['container-threat-grid', 'container-threat-verify', 'container-threat-verify-de'], { intraOpNumThreads: 1 });
  api = await startStack({ workers: false });
}, 60_000);
afterAll(async () => {
  await api?.close();
  await deep?.close();
  await plain?.close();
});

const meta = (scanId: string) => ({ scanId, scannerId: 'H986-QD-01', modality: 'container-xray', containerNo: 'CSQU3054383', capturedAt: '2026-11-23T08:00:00Z' });

/** Pushes the raw pair, then runs preprocess and infer here, each reading the scan itself (as two worker processes). */
async function stages(scanId: string, runtime: ModelRuntime): Promise<ModelOutput> {
  const res = await pushScan(api.url, { key: api.key, metadata: meta(scanId), images: { high: await png16Of(s.high, s.width, s.height), low: await png16Of(s.low, s.width, s.height) } });
  expect(res.status).toBe(202);
  const deps = { db: api.db.db, objects: api.objects, runtime, maxImagePixels: api.config.maxImagePixels, now: () => new Date() } as unknown as PipelineDeps;
  const pre = await preprocessHandler(deps)({ scanId });
  await (pre as StageNext).save!();
  expect(await inferHandler(deps)({ scanId })).toMatchObject({ next: 'assess', scan: { status: 'inferred' } });
  const scan = await scansRepo(api.db.db).get(scanId);
  return (scan!.inference as { outputs: ModelOutput[] }).outputs.find((o) => o.model === 'container-threat-grid')!;
}

describe('the deep plane in the pipeline', () => {
  it('is stored for a raw pair while a verifier reads it, read back by infer in another process, and that verifier serves', async () => {
    const out = await stages('deep-raw-1', deep.runtime);
    expect(out.verifiedBy).toEqual({ model: 'tiny-verify-deep', version: '0.0.1' });
    const png = await api.objects.get(deepKey('deep-raw-1'));
    const stored = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect([stored.info.width, stored.info.height]).toEqual([s.width, s.height]);
    expect(Buffer.compare(stored.data, Buffer.from(renderContainerDeep(s.high, s.width, s.height, 16).data))).toBe(0);
  }, 60_000);

  it('is not made when no loaded verifier reads it', async () => {
    const out = await stages('deep-raw-2', plain.runtime);
    expect(out.verifiedBy?.model).toBe('container-threat-verify-de');
    expect(await api.objects.stat(materialKey('deep-raw-2'))).not.toBeNull();
    expect(await api.objects.stat(deepKey('deep-raw-2'))).toBeNull();
  }, 60_000);
});
