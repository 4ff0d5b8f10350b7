// Per-tile reference matching through HTTP, the pipeline and the committed embedding model: a 40 ft
// container whose back half is steel, declared as tyres only, is sent to review with
// PART_LOOKS_LIKE_OTHER_CODE pointing at the back half; the same scan declared as tyres and steel is not.
// A reference made from a long container keeps its tile vectors (PostgreSQL; the repository test covers
// PGlite too).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reason } from '../../domain/verdict.js';
import type { Rendering } from '../../models/runtime/types.js';
import { containerSample } from '../../models/synth/container.js';
import { pngOf } from '../../models/synth/index.js';
import { Rng } from '../../models/synth/prng.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { referencesRepo } from '../../storage/repos/references.js';
import { verdictsRepo } from '../../storage/repos/verdicts.js';
import { putDeclaration, tyreDeclaration } from '../helpers/declarations.js';
import { committedModels, type TestRuntime } from '../helpers/models.js';
import { pollUntil, pushScan } from '../helpers/push.js';
import { call, containerNo, containerScan, makeUser, type TestUser } from '../helpers/review.js';
import { startStack, type TestStack } from '../helpers/stack.js';

const TYRES = '4011100000';
const STEEL = '7308900000';
const steelLine = { hsCode: STEEL, description: 'steel structures', quantity: 10, unit: 'pcs', grossKg: 2000 };

/** Synthetic 20 ft boxes of one kind of goods, without a chassis (16 mm/px, as the training sets). */
function twentyFoot(category: 'tyres' | 'iron-steel', seed: number, n: number): Rendering[] {
  const out: Rendering[] = [];
  for (let i = 0; out.length < n; i++) {
    const s = containerSample(Rng.forSample(seed, i), { mmpp: 16, threatRate: 0, categories: [category] });
    if (s.meta.lengthFt === 20 && !s.meta.chassis) out.push(s.rendering);
  }
  return out;
}

/** Two boxes end to end, cut to the lower height: one long container rendering. */
function endToEnd(a: Rendering, b: Rendering): Rendering {
  const height = Math.min(a.height, b.height);
  const width = a.width + b.width;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    data.set(a.data.subarray(y * a.width, (y + 1) * a.width), y * width);
    data.set(b.data.subarray(y * b.width, (y + 1) * b.width), y * width + a.width);
  }
  return { width, height, channels: 1, data };
}

let models: TestRuntime;
let stack: TestStack;
let risk: TestUser, rev: TestUser;
let sourceKey: string;
let serial = 0;
// A mix whose whole still looks like its tyres (so the steel is told as a part): when the whole looks like the
// undeclared steel, LOOKS_LIKE_OTHER_CODE carries it and a steel part is left out (referenceReasons). Seed 777's
// mix did the first with container-embed 1.0.0 and the second with 1.1.0.
const mixed = endToEnd(twentyFoot('tyres', 779, 1)[0]!, twentyFoot('iron-steel', 779, 1)[0]!);
const EMBED_VERSION = (JSON.parse(readFileSync('models/registry/container-embed.card.json', 'utf8')) as { version: string }).version;

/** Declares `lines` for a new container, pushes its 8-bit rendering and waits for the machine verdict. */
async function scan(scanId: string, rendering: Rendering, lines: string[]): Promise<void> {
  const cn = await containerNo('TIL', ++serial);
  const decl = tyreDeclaration(`D-${scanId}`, cn);
  decl.lines = lines.map((code) => (code === STEEL ? steelLine : decl.lines[0]!));
  expect((await putDeclaration(stack.url, sourceKey, decl)).status).toBeLessThan(300);
  const res = await pushScan(stack.url, { key: stack.key, metadata: containerScan(scanId, cn), images: { image: await pngOf(rendering) } });
  expect(res.status).toBe(202);
  const routed = await pollUntil(() => stack.db.db.query<{ routed_at: unknown }>('SELECT routed_at FROM scans WHERE scan_id = $1', [scanId]), (r) => Boolean(r.rows[0]?.routed_at), 30_000, 50);
  expect(routed.rows[0]?.routed_at).toBeTruthy();
}

/** A scan verified by inspection: it becomes a reference of its one declared code. */
async function reference(scanId: string, rendering: Rendering, code: string): Promise<string> {
  await scan(scanId, rendering, [code]);
  const r = await call<{ references: string[] }>(stack.url, 'POST', '/v1/inspections', risk.token, { scanId, result: 'nothing' });
  expect(r.status).toBe(201);
  return r.body.references[0]!;
}

const machineReasons = async (scanId: string): Promise<Reason[]> => (await verdictsRepo(stack.db.db).machineVerdict(scanId))!.reasons;

beforeAll(async () => {
  // only the committed embedder: scans go to review for want of the other models, which is all we need
  models = await committedModels(['container-embed']);
  stack = await startStack({ runtime: models.runtime });
  [risk, rev] = await Promise.all([makeUser(stack.db.db, 'rick', 'risk-control'), makeUser(stack.db.db, 'rae', 'reviewer', 'A')]);
  sourceKey = (await gatewaysRepo(stack.db.db).add('decl', 'declaration-source')).key;
  const [tyres, steel] = [twentyFoot('tyres', 501, 4), twentyFoot('iron-steel', 501, 3)];
  for (const [i, r] of tyres.slice(0, 3).entries()) await reference(`til-ref-t${i}`, r, TYRES);
  for (const [i, r] of steel.entries()) await reference(`til-ref-s${i}`, r, STEEL);
}, 120_000);
afterAll(async () => {
  await stack?.close();
  await models?.close();
});

describe('tiles of a long container against the reference library', () => {
  it('a 40 ft scan made a reference keeps its tile vectors; a 20 ft one has none', async () => {
    const [a, b] = twentyFoot('tyres', 502, 2);
    const long = await reference('til-ref-long', endToEnd(a!, b!), TYRES);
    const refs = referencesRepo(stack.db.db);
    const tiles = await refs.tiles(long);
    expect(tiles!.length).toBeGreaterThanOrEqual(2);
    expect(tiles!.at(-1)!.x + tiles!.at(-1)!.width).toBe(a!.width + b!.width);
    expect(tiles!.every((t) => t.embedding.length === 128)).toBe(true);
    const short = (await refs.list({ hsPrefix: STEEL }))[0]!;
    expect(await refs.tiles(short.id)).toBeNull();
  });

  it('declared as tyres, the steel half gives PART_LOOKS_LIKE_OTHER_CODE at the back; declared as both, nothing', async () => {
    await scan('til-tyres-only', mixed, [TYRES]);
    const part = (await machineReasons('til-tyres-only')).find((r) => r.code === 'PART_LOOKS_LIKE_OTHER_CODE');
    expect(part).toMatchObject({ layer: 'declaration', decision: 'review', evidence: { model: 'container-embed', version: EMBED_VERSION } });
    expect(part!.detail).toContain(`HS ${STEEL}`);
    const [x1, x2] = part!.evidence!.xRange!;
    expect(x2).toBe(mixed.width);
    expect(x1).toBeGreaterThanOrEqual(mixed.width * 0.4); // the steel box is the back half
    expect((await verdictsRepo(stack.db.db).machineVerdict('til-tyres-only'))!.decision).toBe('review');

    // the review screen gets the reason and, per tile, what it looked like
    const detail = await call<{ verdict: { declaredVsSeen: { references: { tiles: Array<{ x: number; bestCode: string }> } } } }>(stack.url, 'GET', '/v1/review/items/til-tyres-only', rev.token);
    const tiles = detail.body.verdict.declaredVsSeen.references.tiles;
    expect(tiles[0]!.bestCode).toBe(TYRES);
    expect(tiles.at(-1)!.bestCode).toBe(STEEL);

    await scan('til-both', mixed, [TYRES, STEEL]);
    expect((await machineReasons('til-both')).map((r) => r.code)).not.toContain('PART_LOOKS_LIKE_OTHER_CODE');
  });
});
