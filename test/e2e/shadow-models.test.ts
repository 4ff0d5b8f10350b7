// Shadow mode for candidate models (SHADOW_MODELS_DIR): the registry with a candidate laid over it runs beside
// the active models on every scan of a modality the candidate serves; the candidate's assessment is recorded and
// reported to risk control, the verdict and its actions stay the active models'. Through HTTP, the pipeline and
// the committed parcel detector; the candidate is the same network with a card that asks for near-certainty.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_POLICY_FILE } from '../../pipeline/policy.js';
import { createModelRuntime } from '../../models/runtime/index.js';
import { ModelCardError } from '../../models/runtime/registry.js';
import type { ModelRuntime } from '../../models/runtime/types.js';
import { parcelLines } from '../../models/synth/declarations.js';
import { makeSample, pngOf } from '../../models/synth/index.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { putDeclaration } from '../helpers/declarations.js';
import { dualEnergyPair } from '../helpers/images.js';
import { getJson, pollUntil, pushScan } from '../helpers/push.js';
import { startStack, type TestStack } from '../helpers/stack.js';

let dir: string;
let active: ModelRuntime;
let candidate: ModelRuntime;
let stack: TestStack;
let policyVersion: string;
const DET = 'parcel-item-det';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tw-shadow-models-'));
  const [registry, overlay] = [join(dir, 'registry'), join(dir, 'candidates')];
  await mkdir(registry);
  await mkdir(overlay);
  for (const f of [`${DET}.card.json`, `${DET}.onnx`]) await copyFile(join('models/registry', f), join(registry, f));
  // the candidate: the committed weights under a card of its own version whose thresholds no score reaches (a
  // broken candidate, the kind shadow mode is there to catch before it acts)
  const card = JSON.parse(await readFile(join(registry, `${DET}.card.json`), 'utf8')) as { version: string; thresholds: Record<string, number> };
  card.version = `${card.version}-strict`;
  for (const label of Object.keys(card.thresholds)) card.thresholds[label] = 1.5;
  await writeFile(join(overlay, `${DET}.card.json`), JSON.stringify(card));
  await copyFile(join(registry, `${DET}.onnx`), join(overlay, `${DET}.onnx`));
  active = await createModelRuntime({ registryDir: registry, intraOpNumThreads: 1 });
  candidate = await createModelRuntime({ registryDir: registry, overlayDir: overlay, intraOpNumThreads: 1 });
  stack = await startStack({ runtime: active, shadowRuntime: candidate });
  policyVersion = (JSON.parse(await readFile(DEFAULT_POLICY_FILE, 'utf8')) as { version: string }).version;
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await active?.close();
  await candidate?.close();
  await rm(dir, { recursive: true, force: true });
});

it('lays the candidate over the registry by card name, and refuses an overlay without cards', async () => {
  expect(candidate.modelsFor('parcel-ct').map((c) => `${c.name}@${c.version}`)).toEqual([`${DET}@${active.modelsFor('parcel-ct')[0]!.version}-strict`]);
  await expect(createModelRuntime({ registryDir: join(dir, 'registry'), overlayDir: join(dir, 'nothing-here') })).rejects.toThrow(ModelCardError);
});

it('records what the candidate model would have decided beside the active verdict, and reports it to risk control', async () => {
  const declKey = (await gatewaysRepo(stack.db.db).add('decl', 'declaration-source')).key;
  const rcKey = (await gatewaysRepo(stack.db.db).add('rc', 'risk-control')).key;
  // two phones, declared as packed: the active detector counts both, the candidate sees nothing
  const s = makeSample('parcel', 20261123, 2, { threatRate: 0 });
  expect(s.counts).toEqual({ phone: 2 });
  const waybill = 'SF7100000001';
  const decl = { declarationId: 'SHM-1', waybills: [waybill], lines: parcelLines(s.counts!), enterprise: { id: 'ENT-7', creditLevel: 'ordinary' } };
  expect((await putDeclaration(stack.url, declKey, decl)).status).toBe(201);
  const metadata = { scanId: 'shm-parcel', scannerId: 'CT-07', modality: 'parcel-ct', waybill, capturedAt: '2026-12-03T08:00:00Z' };
  expect((await pushScan(stack.url, { key: stack.key, metadata, images: { image: await pngOf(s.rendering) } })).status).toBe(202);
  const done = await pollUntil(() => getJson(stack.url, '/v1/scans/shm-parcel', stack.key), (r) => r.body.status === 'assessed', 30_000);
  const verdict = done.body.verdict as { decision: string; models: Array<{ name: string; version: string }>; reasons: Array<{ code: string }> };
  // the verdict is the active model's: both phones counted, nothing to review (unless the blind sample drew it)
  expect(verdict.models).toContainEqual({ name: DET, version: active.modelsFor('parcel-ct')[0]!.version });
  expect(verdict.reasons.map((r) => r.code).filter((c) => c !== 'BLIND_SAMPLE')).toEqual([]);
  const row = await stack.db.db.query<{ candidate_version: string; candidate_decision: string; differs: boolean; differences: { addedReasons: string[] } }>(
    `SELECT candidate_version, candidate_decision, differs, differences FROM shadow_assessments WHERE scan_id = 'shm-parcel'`,
  );
  const candidateVersion = `${policyVersion}+${DET}@${candidate.modelsFor('parcel-ct')[0]!.version}`;
  expect(row.rows[0]).toMatchObject({ candidate_version: candidateVersion, candidate_decision: 'review', differs: true });
  expect(row.rows[0]!.differences.addedReasons).toContain('COUNT_MISMATCH'); // declared 2 phones, counted none
  const summary = await getJson(stack.url, '/v1/shadow', rcKey);
  expect(summary.status).toBe(200);
  expect(summary.body.candidates).toEqual([expect.objectContaining({ candidateVersion, scans: 1, differing: 1 })]);

  // the candidate's scans, one by one, for risk control to look at
  const q = (extra: string) => getJson(stack.url, `/v1/shadow/scans?candidate=${encodeURIComponent(candidateVersion)}${extra}`, rcKey);
  const page = await q('&limit=1');
  expect(page.status).toBe(200);
  expect(page.body.items).toEqual([
    expect.objectContaining({ scanId: 'shm-parcel', activeVersion: policyVersion, candidateDecision: 'review', differs: true, differences: expect.objectContaining({ addedReasons: ['COUNT_MISMATCH'] }) }),
  ]);
  expect(page.body.nextCursor).toEqual(expect.any(String));
  const next = await q(`&limit=1&before=${page.body.nextCursor as string}`);
  expect([next.status, next.body.items, next.body.nextCursor]).toEqual([200, [], null]);
  expect((await q('&before=not-a-cursor')).body.code).toBe('SHADOW_QUERY_INVALID');
  expect((await getJson(stack.url, '/v1/shadow/scans', rcKey)).status).toBe(400);
  expect((await q('&limit=0')).status).toBe(400);
  expect((await getJson(stack.url, `/v1/shadow/scans?candidate=x`, stack.key)).status).toBe(403);
});

it('leaves scans of a modality no candidate serves alone: no second inference, no shadow record', async () => {
  const metadata = { scanId: 'shm-container', scannerId: 'H986-01', modality: 'container-xray', containerNo: 'MSKU9070323', capturedAt: '2026-12-03T08:00:00Z' };
  expect((await pushScan(stack.url, { key: stack.key, metadata, images: await dualEnergyPair(128, 64, 3) })).status).toBe(202);
  const done = await pollUntil(() => getJson(stack.url, '/v1/scans/shm-container', stack.key), (r) => r.body.status === 'assessed', 30_000);
  expect((done.body.verdict as { reasons: Array<{ code: string }> }).reasons.map((r) => r.code)).toContain('MODEL_UNAVAILABLE');
  const stored = await stack.db.db.query<{ inference: { shadow?: unknown } }>(`SELECT inference FROM scans WHERE scan_id = 'shm-container'`);
  expect(stored.rows[0]!.inference.shadow).toBeUndefined();
  const rows = await stack.db.db.query(`SELECT 1 FROM shadow_assessments WHERE scan_id = 'shm-container'`);
  expect(rows.rows).toHaveLength(0);
});

it('a candidate that fails at inference is logged and left out; the scan reaches its active verdict', async () => {
  // a card whose input size the network does not take: onnxruntime refuses every call
  const broken = join(dir, 'broken');
  await mkdir(broken);
  const card = JSON.parse(await readFile(join(dir, 'candidates', `${DET}.card.json`), 'utf8')) as { version: string; input: { shape: unknown[] } };
  card.version = `${card.version}-broken`;
  card.input.shape = ['batch', 3, 300, 300];
  await writeFile(join(broken, `${DET}.card.json`), JSON.stringify(card));
  await copyFile(join(dir, 'registry', `${DET}.onnx`), join(broken, `${DET}.onnx`));
  const brokenRuntime = await createModelRuntime({ registryDir: join(dir, 'registry'), overlayDir: broken, intraOpNumThreads: 1 });
  const logLines: string[] = [];
  const own = await startStack({ runtime: active, shadowRuntime: brokenRuntime, logLines, env: { LOG_LEVEL: 'warn' } });
  try {
    const s = makeSample('parcel', 20261123, 2, { threatRate: 0 });
    const metadata = { scanId: 'shm-broken', scannerId: 'CT-07', modality: 'parcel-ct', waybill: 'SF7100000002', capturedAt: '2026-12-03T08:00:00Z' };
    expect((await pushScan(own.url, { key: own.key, metadata, images: { image: await pngOf(s.rendering) } })).status).toBe(202);
    const done = await pollUntil(() => getJson(own.url, '/v1/scans/shm-broken', own.key), (r) => r.body.status === 'assessed', 30_000);
    expect((done.body.verdict as { models: Array<{ name: string }> }).models.map((m) => m.name)).toContain(DET);
    const stored = await own.db.db.query<{ inference: { shadow?: unknown; outputs: unknown[] } }>(`SELECT inference FROM scans WHERE scan_id = 'shm-broken'`);
    expect(stored.rows[0]!.inference.outputs.length).toBeGreaterThan(0);
    expect(stored.rows[0]!.inference.shadow).toBeUndefined();
    expect((await own.db.db.query(`SELECT 1 FROM shadow_assessments WHERE scan_id = 'shm-broken'`)).rows).toHaveLength(0);
    expect(logLines.some((l) => l.includes('shadow inference failed'))).toBe(true);
  } finally {
    await own.close();
    await brokenRuntime.close();
  }
});
