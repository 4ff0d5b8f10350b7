// A gateway pushes scans over HTTP; each ends as a stored verdict. Retries never duplicate; bad input
// answers with stable codes and changes nothing already stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dualEnergyPair, jpeg8, png16, png8, tiff8 } from '../helpers/images.js';
import { getJson, pollUntil, pushScan } from '../helpers/push.js';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ database: 'pglite' });
});
afterAll(async () => {
  await stack?.close();
});

const containerMeta = (scanId: string, extra: Record<string, unknown> = {}) => ({
  scanId,
  scannerId: 'H986-QD-01',
  modality: 'container-xray',
  containerNo: 'CSQU3054383',
  capturedAt: '2026-11-23T08:00:00Z',
  weightKg: 24_500,
  ...extra,
});

async function waitForVerdict(scanId: string) {
  return pollUntil(
    () => getJson(stack.url, `/v1/scans/${scanId}`, stack.key),
    (r) => r.body.status === 'assessed' && r.body.verdict !== null,
  );
}

describe('POST /v1/scans → verdict', () => {
  it('stores a 16-bit dual-energy container scan and reaches a verdict (review: no model registered)', async () => {
    const { high, low } = await dualEnergyPair();
    const res = await pushScan(stack.url, { key: stack.key, metadata: containerMeta('e2e-de-1'), images: { high, low } });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ scanId: 'e2e-de-1', status: 'received', statusUrl: '/v1/scans/e2e-de-1' });

    const done = await waitForVerdict('e2e-de-1');
    expect(done.body.status).toBe('assessed');
    const images = done.body.images as Array<{ role: string; bitDepth: number; width: number }>;
    expect(images.map((i) => [i.role, i.bitDepth, i.width])).toEqual([['high', 16, 320], ['low', 16, 320]]);
    const verdict = done.body.verdict as { decision: string; reasons: Array<{ code: string }>; subject: unknown; runtime?: string };
    expect(verdict.decision).toBe('review');
    expect(verdict.runtime).toBeUndefined(); // no model ran, so no runtime prepared anything
    expect(verdict.reasons.map((r) => r.code)).toEqual(['MODEL_UNAVAILABLE', 'DECLARATION_MISSING']);
    expect(verdict.subject).toEqual({ containerNo: 'CSQU3054383' });

    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    expect(metrics).toMatch(/tidewatch_machine_verdicts_total\{modality="container-xray",decision="review"\} [1-9]/);
    expect(metrics).toMatch(/tidewatch_stage_seconds_count\{stage="preprocess",outcome="ok"\} [1-9]/);
    expect(metrics).toContain('nodejs_eventloop_lag_seconds');
  });

  it('answers a retried push with the existing scan and stores one scan, one verdict', async () => {
    const { high, low } = await dualEnergyPair(320, 120, 7);
    const first = await pushScan(stack.url, { key: stack.key, metadata: containerMeta('e2e-retry'), images: { high, low } });
    expect(first.status).toBe(202);
    await waitForVerdict('e2e-retry');
    const again = await pushScan(stack.url, { key: stack.key, metadata: containerMeta('e2e-retry'), images: { high, low } });
    expect(again.status).toBe(200);
    expect(again.body.scanId).toBe('e2e-retry');
    const rows = await stack.db.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM verdicts WHERE scan_id = 'e2e-retry'`);
    expect(rows.rows[0]!.n).toBe('1');
  });

  it('answers 409 SCAN_ID_CONFLICT when the same scanId comes with other content, leaving the first intact', async () => {
    const a = await png16(64, 32, () => 30000);
    const b = await png16(64, 32, () => 31000);
    expect((await pushScan(stack.url, { key: stack.key, metadata: containerMeta('e2e-conflict'), images: { image: a } })).status).toBe(202);
    const clash = await pushScan(stack.url, { key: stack.key, metadata: containerMeta('e2e-conflict'), images: { image: b } });
    expect(clash.status).toBe(409);
    expect(clash.body.code).toBe('SCAN_ID_CONFLICT');
    const stored = await stack.db.db.query<{ sha256: string }>(`SELECT sha256 FROM scan_images WHERE scan_id = 'e2e-conflict'`);
    expect(stored.rows).toHaveLength(1);
  });

  it('accepts 8-bit PNG, JPEG and TIFF renderings, and parcel scans by waybill', async () => {
    const cases: Array<[string, Buffer, string]> = [
      ['e2e-png8', await png8(96, 48), 'container-xray'],
      ['e2e-jpeg', await jpeg8(96, 48), 'parcel-xray'],
      ['e2e-tiff', await tiff8(96, 48), 'parcel-ct'],
    ];
    for (const [scanId, image, modality] of cases) {
      const meta = modality === 'container-xray'
        ? containerMeta(scanId)
        : { scanId, scannerId: 'CT-07', modality, waybill: `SF${scanId.length}1234567`, capturedAt: '2026-11-23T08:00:00Z' };
      const res = await pushScan(stack.url, { key: stack.key, metadata: meta, images: { image } });
      expect(res.status, scanId).toBe(202);
    }
    for (const [scanId] of cases) expect((await waitForVerdict(scanId)).body.status).toBe('assessed');
  });
});

describe('bad input', () => {
  it('401 UNAUTHORIZED without a key, with a wrong key', async () => {
    const image = await png8(32, 32);
    for (const key of [undefined, 'twg_not-a-real-key-123456']) {
      const res = await pushScan(stack.url, { key, metadata: containerMeta('e2e-unauth'), images: { image } });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('UNAUTHORIZED');
    }
  });

  it('400 CONTAINER_NO_INVALID names the expected check digit', async () => {
    const res = await pushScan(stack.url, { key: stack.key, metadata: containerMeta('e2e-bad-cn', { containerNo: 'CSQU3054384' }), images: { image: await png8(32, 32) } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('CONTAINER_NO_INVALID');
    expect(res.body.message).toContain('should be 3');
    expect((res.body.details as { expectedCheckDigit: number }).expectedCheckDigit).toBe(3);
  });

  it('400 METADATA_INVALID for missing fields, bad JSON, negative weight, unknown modality, naming the field', async () => {
    const image = await png8(32, 32);
    const bad = [
      '{not json',
      JSON.stringify({ scanId: 'x1', modality: 'container-xray' }),
      JSON.stringify(containerMeta('e2e-neg', { weightKg: -5 })),
      JSON.stringify(containerMeta('e2e-mod', { modality: 'mri' })),
      JSON.stringify(containerMeta('../../etc', {})),
    ];
    for (const metadata of bad) {
      const res = await pushScan(stack.url, { key: stack.key, metadata, images: { image } });
      expect(res.status, metadata).toBe(400);
      expect(res.body.code, metadata).toBe('METADATA_INVALID');
    }
    // details.field names the offending field: a missing one, a bad value, a misspelt (unknown) property
    const named: Array<[string, string]> = [
      [JSON.stringify({ ...containerMeta('e2e-nodate'), capturedAt: undefined }), 'capturedAt'],
      [JSON.stringify(containerMeta('e2e-neg2', { weightKg: -5 })), 'weightKg'],
      [JSON.stringify({ ...containerMeta('e2e-typo'), weightKgs: 1200 }), 'weightKgs'],
    ];
    for (const [metadata, field] of named) {
      const res = await pushScan(stack.url, { key: stack.key, metadata, images: { image } });
      expect([res.status, res.body.code, (res.body.details as { field?: string } | undefined)?.field], metadata).toEqual([400, 'METADATA_INVALID', field]);
    }
  });

  it('400 IMAGE_UNSUPPORTED for wrong magic bytes; IMAGE_CORRUPT for a truncated PNG', async () => {
    const gif = Buffer.from('GIF89a' + 'x'.repeat(100));
    const r1 = await pushScan(stack.url, { key: stack.key, metadata: containerMeta('e2e-gif'), images: { image: gif } });
    expect([r1.status, r1.body.code]).toEqual([400, 'IMAGE_UNSUPPORTED']);
    const png = await png16(200, 100, (x, y) => (x * y) % 65536);
    const r2 = await pushScan(stack.url, { key: stack.key, metadata: containerMeta('e2e-trunc'), images: { image: png.subarray(0, Math.floor(png.length / 2)) } });
    expect([r2.status, r2.body.code]).toEqual([400, 'IMAGE_CORRUPT']);
  });

  it('a pair with both images bad names the first part sent, and stores no scan', async () => {
    const gif = Buffer.from('GIF89a' + 'x'.repeat(100));
    const png = await png16(200, 100, (x, y) => (x * y) % 65536);
    const truncated = png.subarray(0, Math.floor(png.length / 2));
    const highFirst = await pushScan(stack.url, { key: stack.key, metadata: containerMeta('e2e-bad-pair-1'), images: { high: gif, low: truncated } });
    expect([highFirst.status, highFirst.body.code, highFirst.body.details]).toEqual([400, 'IMAGE_UNSUPPORTED', { part: 'high' }]);
    const lowFirst = await pushScan(stack.url, { key: stack.key, metadata: containerMeta('e2e-bad-pair-2'), images: { low: truncated, high: gif } });
    expect([lowFirst.status, lowFirst.body.code, lowFirst.body.details]).toEqual([400, 'IMAGE_CORRUPT', { part: 'low' }]);
    for (const id of ['e2e-bad-pair-1', 'e2e-bad-pair-2']) expect((await getJson(stack.url, `/v1/scans/${id}`, stack.key)).status).toBe(404);
  });

  it('413 IMAGE_TOO_LARGE for a decompression bomb (tiny file, huge pixel count)', async () => {
    // 8000 × 6000 of one colour compresses to ~50 kB but would decode to 48 MP, over the 40 MP default.
    const sharp = (await import('sharp')).default;
    const bomb = await sharp({ create: { width: 8000, height: 6000, channels: 3, background: '#000' } }).toColourspace('b-w').png({ compressionLevel: 9 }).toBuffer();
    expect(bomb.length).toBeLessThan(1_000_000);
    const res = await pushScan(stack.url, { key: stack.key, metadata: containerMeta('e2e-bomb'), images: { image: bomb } });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('IMAGE_TOO_LARGE');
  });

  it('400 IMAGE_MISSING for high without low; nothing stored for rejected pushes', async () => {
    const { high } = await dualEnergyPair(64, 32);
    const res = await pushScan(stack.url, { key: stack.key, metadata: containerMeta('e2e-nolow'), images: { high } });
    expect([res.status, res.body.code]).toEqual([400, 'IMAGE_MISSING']);
    const rows = await stack.db.db.query(`SELECT scan_id FROM scans WHERE scan_id IN ('e2e-nolow', 'e2e-gif', 'e2e-trunc', 'e2e-bomb', 'e2e-bad-cn')`);
    expect(rows.rows).toEqual([]);
  });

  it('404 SCAN_NOT_FOUND for an unknown scan', async () => {
    const res = await getJson(stack.url, '/v1/scans/does-not-exist', stack.key);
    expect([res.status, res.body.code]).toEqual([404, 'SCAN_NOT_FOUND']);
  });
});
