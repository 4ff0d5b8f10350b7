// `references import`: a labelled archive filed by HS code becomes references, with a per-file report
// that rejects unknown or malformed HS codes and non-images, and skips an image already imported; a long
// container image keeps its tile vectors.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddingTiles } from '../../models/runtime/tiles.js';
import { folderHsCode, importReferences, type Embedder } from '../../scripts/references.js';
import { createFsObjectStore } from '../../storage/objects/fs-store.js';
import { auditRepo } from '../../storage/repos/audit.js';
import { referencesRepo } from '../../storage/repos/references.js';
import { pgliteTestDb, type TestDb } from '../helpers/databases.js';

/** Deterministic: the vector is the image's mean grey and its width. */
const embed: Embedder = async (r) => {
  let s = 0;
  for (const v of r.data) s += v;
  return { model: 'fake-embed', version: '1.0.0', embedding: [s / r.data.length / 255, r.width / 1000] };
};

const png = (grey: number, w = 64, h = 32) => sharp({ create: { width: w, height: h, channels: 3, background: { r: grey, g: grey, b: grey } } }).png().toBuffer();

let t: TestDb;
let dir: string;

beforeAll(async () => {
  t = await pgliteTestDb();
  dir = await mkdtemp(join(tmpdir(), 'tw-refimport-'));
  const put = async (code: string, name: string, body: Buffer | string) => {
    await mkdir(join(dir, 'archive', code), { recursive: true });
    await writeFile(join(dir, 'archive', code, name), body);
  };
  await put('4011100000', 'a.png', await png(40));
  await put('4011100000', 'b.jpg', await sharp(await png(60)).jpeg().toBuffer());
  await put('4011100000', 'notes.txt', 'not an image');
  await put('4011100000', 'broken.png', 'not a png either');
  await put('8471.30.00 00', 'laptop.png', await png(120)); // dots and spaces as people write codes
  await put('7700000000', 'x.png', await png(10)); // chapter 77 is reserved: no such subheading
  await put('12345', 'y.png', await png(20)); // not a code
});
afterAll(async () => {
  await t?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('references import', () => {
  it('reads folder names as HS codes: 10 digits with a real subheading, or a real 6-digit subheading', () => {
    expect(folderHsCode('4011100000')).toEqual({ ok: true, hsCode: '4011100000' });
    expect(folderHsCode('401110')).toEqual({ ok: true, hsCode: '401110' });
    expect(folderHsCode('7700000000')).toMatchObject({ ok: false, code: 'HS_CODE_UNKNOWN' });
    expect(folderHsCode('12345')).toMatchObject({ ok: false, code: 'HS_CODE_INVALID' });
  });

  it('imports the images of known codes and reports every other file with its reason', async () => {
    const deps = { db: t.db, objects: createFsObjectStore(join(dir, 'objects')), embed };
    const reports = await importReferences(deps, join(dir, 'archive'), { modality: 'container-xray', actor: 'cli:test' });
    const by = Object.fromEntries(reports.map((r) => [r.file, r]));
    expect(reports).toHaveLength(7);
    expect(by['4011100000/a.png']).toMatchObject({ outcome: 'imported', hsCode: '4011100000' });
    expect(by['4011100000/b.jpg']).toMatchObject({ outcome: 'imported' });
    expect(by['8471.30.00 00/laptop.png']).toMatchObject({ outcome: 'imported', hsCode: '8471300000' });
    expect(by['4011100000/notes.txt']).toMatchObject({ outcome: 'rejected', code: 'NOT_AN_IMAGE' });
    expect(by['4011100000/broken.png']).toMatchObject({ outcome: 'rejected', code: 'IMAGE_UNREADABLE' });
    expect(by['7700000000/x.png']).toMatchObject({ outcome: 'rejected', code: 'HS_CODE_UNKNOWN' });
    expect(by['12345/y.png']).toMatchObject({ outcome: 'rejected', code: 'HS_CODE_INVALID' });

    const refs = await referencesRepo(t.db).list();
    expect(refs.map((r) => r.sourceFile).sort()).toEqual(['4011100000/a.png', '4011100000/b.jpg', '8471.30.00 00/laptop.png']);
    expect(refs.every((r) => r.source === 'import' && r.addedBy === 'cli:test')).toBe(true);
    const a = refs.find((r) => r.sourceFile === '4011100000/a.png')!;
    expect((await deps.objects.get(a.imageKey)).subarray(1, 4).toString()).toBe('PNG');
    const vectors = await referencesRepo(t.db).vectors('container-xray', 'fake-embed', '1.0.0');
    expect(vectors.find((v) => v.referenceId === a.id)?.embedding[0]).toBeCloseTo(40 / 255, 5);
    expect((await auditRepo(t.db).list(`reference:${a.id}`)).map((e) => e.payload.action)).toEqual(['reference.added']);

    // a second run skips what is already there
    const again = await importReferences(deps, join(dir, 'archive'), { modality: 'container-xray', actor: 'cli:test' });
    expect(again.filter((r) => r.outcome === 'imported')).toEqual([]);
    expect(again.filter((r) => r.outcome === 'skipped')).toHaveLength(3);
  });

  it('keeps the tile vectors the embedder gives for a long container image', async () => {
    // as the runtime does: a vector per tile along a long rendering (x, width in its pixels)
    const tiled: Embedder = async (r) => ({
      ...(await embed(r)),
      ...(r.width > 2.55 * r.height && { tiles: embeddingTiles(r.width, r.height).map((t) => ({ ...t, embedding: [t.x / r.width, 1] })) }),
    });
    await mkdir(join(dir, 'long', '7308900000'), { recursive: true });
    await writeFile(join(dir, 'long', '7308900000', 'forty.png'), await png(80, 450, 100));
    const [report] = await importReferences({ db: t.db, objects: createFsObjectStore(join(dir, 'objects')), embed: tiled }, join(dir, 'long'), { modality: 'container-xray', actor: 'cli:test' });
    expect(report).toMatchObject({ outcome: 'imported', hsCode: '7308900000' });
    expect(await referencesRepo(t.db).tiles(report!.referenceId!)).toEqual(embeddingTiles(450, 100).map((x) => ({ ...x, embedding: [x.x / 450, 1] })));
    const v = (await referencesRepo(t.db).vectors('container-xray', 'fake-embed', '1.0.0')).find((x) => x.referenceId === report!.referenceId);
    expect(v?.tiles).toHaveLength(embeddingTiles(450, 100).length);
  });
});
