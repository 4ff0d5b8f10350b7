// The review UI's images: signed URLs that expire, refuse tampering, and a tile pyramid whose 16-bit tiles
// carry the scanner's counts unchanged.
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signImageGrant } from '../../api/routes/images/signing.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { png16 } from '../helpers/images.js';
import { getJson, pollUntil, pushScan } from '../helpers/push.js';
import { startStack, type TestStack } from '../helpers/stack.js';

const SECRET = 'test-image-url-secret-0123456789abcdef';
const W = 600;
const H = 300;
// A ramp with structure: every pixel's count is known, so tiles can be checked exactly.
const highAt = (x: number, y: number) => 1000 + x * 90 + y * 7;
const lowAt = (x: number, y: number) => 800 + x * 80 + y * 5;

let stack: TestStack;
let riskKey: string;
let high: Buffer;
type Urls = {
  expiresAt: string;
  rendering: string;
  high: string;
  low: string;
  tiles: { tileSize: number; levels: number; url: string; role: string; byRole: Record<string, { url: string; bitDepth: number; levels: number; width: number }> };
};
let urls: Urls;

beforeAll(async () => {
  stack = await startStack({ env: { IMAGE_URL_SECRET: SECRET } });
  riskKey = (await gatewaysRepo(stack.db.db).add('risk-desk', 'risk-control')).key;
  high = await png16(W, H, highAt);
  const low = await png16(W, H, lowAt);
  const meta = { scanId: 'img-1', scannerId: 'H986-QD-01', modality: 'container-xray', containerNo: 'CSQU3054383', capturedAt: '2026-11-23T08:00:00Z' };
  expect((await pushScan(stack.url, { key: stack.key, metadata: meta, images: { high, low } })).status).toBe(202);
  await pollUntil(() => getJson(stack.url, '/v1/scans/img-1', stack.key), (r) => r.body.status !== 'received');
  const res = await getJson(stack.url, '/v1/scans/img-1/image-urls', riskKey);
  expect(res.status).toBe(200);
  urls = res.body as unknown as Urls;
});
afterAll(async () => {
  await stack?.close();
});

const tileUrl = (role: string, z: number, x: number, y: number) => urls.tiles.byRole[role]!.url.replace('{z}', String(z)).replace('{x}', String(x)).replace('{y}', String(y));
const u16 = async (res: Response) => {
  const b = new Uint8Array(await res.arrayBuffer());
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.byteLength / 2 }, (_, i) => dv.getUint16(2 * i, true));
};

describe('GET /v1/scans/:scanId/image-urls', () => {
  it('gives short-lived URLs for every image and picks the 16-bit high image for display tiles', () => {
    const ttl = new Date(urls.expiresAt).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(250_000);
    expect(ttl).toBeLessThanOrEqual(300_000);
    expect(urls.tiles).toMatchObject({ tileSize: 256, levels: 3, role: 'high' });
    expect(urls.tiles.byRole.high).toMatchObject({ bitDepth: 16, width: 600, levels: 3 });
    expect(urls.tiles.byRole.rendering).toMatchObject({ bitDepth: 8, width: 600 });
    expect(Object.keys(urls).sort()).toEqual(['expiresAt', 'high', 'low', 'rendering', 'tiles']);
  });

  it('answers 401 without a credential, 403 to a gateway, 404 SCAN_NOT_FOUND for an unknown scan', async () => {
    expect((await getJson(stack.url, '/v1/scans/img-1/image-urls')).status).toBe(401);
    const gw = await getJson(stack.url, '/v1/scans/img-1/image-urls', stack.key);
    expect([gw.status, gw.body.code]).toEqual([403, 'FORBIDDEN']);
    const missing = await getJson(stack.url, '/v1/scans/nope/image-urls', riskKey);
    expect([missing.status, missing.body.code]).toEqual([404, 'SCAN_NOT_FOUND']);
  });
});

describe('signed image URLs', () => {
  it('serves the stored 16-bit image byte for byte', async () => {
    const res = await fetch(`${stack.url}${urls.high}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
    const body = Buffer.from(await res.arrayBuffer());
    expect(createHash('sha256').update(body).digest('hex')).toBe(createHash('sha256').update(high).digest('hex'));
    expect((await sharp(body).metadata()).depth).toBe('ushort');
  });

  it('refuses an expired URL with 403 IMAGE_URL_EXPIRED even when its signature is genuine', async () => {
    const exp = Math.floor(Date.now() / 1000) - 5;
    const sig = signImageGrant(SECRET, { scanId: 'img-1', role: 'high', exp });
    const res = await getJson(stack.url, `/v1/images/img-1/high?exp=${exp}&sig=${sig}`);
    expect([res.status, res.body.code]).toEqual([403, 'IMAGE_URL_EXPIRED']);
    const tile = await getJson(stack.url, `/v1/images/img-1/high/tiles/0/0/0?exp=${exp}&sig=${sig}`);
    expect([tile.status, tile.body.code]).toEqual([403, 'IMAGE_URL_EXPIRED']);
  });

  it('refuses tampered URLs with 403 IMAGE_URL_INVALID: changed signature, extended expiry, other role, other scan, none', async () => {
    const [path, query] = urls.high.split('?') as [string, string];
    const q = new URLSearchParams(query);
    const sig = q.get('sig')!;
    const flipped = `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`;
    const attempts = [
      `${path}?exp=${q.get('exp')}&sig=${flipped}`,
      `${path}?exp=${Number(q.get('exp')) + 3600}&sig=${sig}`,
      `${path.replace('/high', '/low')}?${query}`,
      `${path.replace('img-1', 'img-2')}?${query}`,
      path,
    ];
    for (const url of attempts) {
      const res = await getJson(stack.url, url);
      expect([url, res.status, res.body.code]).toEqual([url, 403, 'IMAGE_URL_INVALID']);
    }
  });
});

describe('tile pyramid', () => {
  it('cuts full-resolution 16-bit tiles as raw little-endian counts, edge tiles smaller', async () => {
    const res = await fetch(`${stack.url}${tileUrl('high', 0, 1, 0)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect([res.headers.get('x-tile-width'), res.headers.get('x-tile-height'), res.headers.get('x-bit-depth')]).toEqual(['256', '256', '16']);
    const px = await u16(res);
    expect(px).toHaveLength(256 * 256);
    for (const [x, y] of [[0, 0], [255, 0], [17, 200], [255, 255]] as const) expect(px[y * 256 + x]).toBe(highAt(256 + x, y));

    const edge = await fetch(`${stack.url}${tileUrl('high', 0, 2, 1)}`);
    expect([edge.headers.get('x-tile-width'), edge.headers.get('x-tile-height')]).toEqual(['88', '44']);
    const epx = await u16(edge);
    expect(epx).toHaveLength(88 * 44);
    expect(epx[43 * 88 + 87]).toBe(highAt(599, 299));
  });

  it('halves each level by the 2×2 mean, so a coarse tile still holds counts, and the top level is one tile', async () => {
    const res = await fetch(`${stack.url}${tileUrl('high', 2, 0, 0)}`);
    expect([res.headers.get('x-tile-width'), res.headers.get('x-tile-height')]).toEqual(['150', '75']);
    const px = await u16(res);
    // A linear ramp's 4×4 block mean is its centre value.
    expect(Math.abs(px[10 * 150 + 20]! - highAt(4 * 20 + 1.5, 4 * 10 + 1.5))).toBeLessThanOrEqual(1);
    const beyond = await getJson(stack.url, tileUrl('high', 2, 1, 0));
    expect([beyond.status, beyond.body.code]).toEqual([404, 'TILE_NOT_FOUND']);
    expect((await getJson(stack.url, tileUrl('high', 3, 0, 0))).status).toBe(404);
  });

  it('keeps cut tiles in the object store and serves the same bytes again', async () => {
    const first = Buffer.from(await (await fetch(`${stack.url}${tileUrl('low', 1, 0, 0)}`)).arrayBuffer());
    expect(await stack.objects.stat('tiles/img-1/low/1/0-0.u16.gz')).not.toBeNull();
    const again = Buffer.from(await (await fetch(`${stack.url}${tileUrl('low', 1, 0, 0)}`)).arrayBuffer());
    expect(again.equals(first)).toBe(true);
    const dv = new DataView(first.buffer, first.byteOffset, first.byteLength);
    expect(Math.abs(dv.getUint16((5 * 256 + 7) * 2, true) - lowAt(14.5, 10.5))).toBeLessThanOrEqual(1);
  });

  it('serves 8-bit rendering tiles as PNG', async () => {
    const res = await fetch(`${stack.url}${tileUrl('rendering', 0, 0, 0)}`);
    expect(res.headers.get('content-type')).toBe('image/png');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.width, meta.height, meta.depth]).toEqual([256, 256, 'uchar']);
  });
});
