// DICOS/DICOM through POST /v1/scans: DX and CT, single and multi-frame, reach a verdict like any image;
// what cannot be read is refused with IMAGE_UNSUPPORTED / IMAGE_CORRUPT and nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dicomAttributesKey } from '../../pipeline/dicom.js';
import { dicomFile, TRANSFER_SYNTAX } from '../fixtures/dicom.js';
import { getJson, pollUntil, pushScan } from '../helpers/push.js';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ database: 'pglite' });
});
afterAll(async () => {
  await stack?.close();
});

const containerMeta = (scanId: string) => ({
  scanId,
  scannerId: 'H986-QD-02',
  modality: 'container-xray',
  containerNo: 'CSQU3054383',
  capturedAt: '2026-11-23T08:00:00Z',
});
const parcelMeta = (scanId: string) => ({ scanId, scannerId: 'CT-09', modality: 'parcel-ct', waybill: 'SF1234567890', capturedAt: '2026-11-23T08:00:00Z' });

// A transmission image: bright air, a dense block of cargo.
const cargo = (w: number, h: number) => (x: number, y: number) => (x > w * 0.2 && x < w * 0.8 && y > h * 0.2 && y < h * 0.8 ? 15000 : 60000) + ((x * 7 + y * 13) % 300);

async function verdictOf(scanId: string) {
  return pollUntil(
    () => getJson(stack.url, `/v1/scans/${scanId}`, stack.key),
    (r) => r.body.status === 'assessed' && r.body.verdict !== null,
  );
}

async function storedAttributes(scanId: string) {
  const row = (await stack.db.db.query<{ object_key: string }>(`SELECT object_key FROM scan_images WHERE scan_id = $1 ORDER BY role`, [scanId])).rows;
  return Promise.all(row.map(async (r) => JSON.parse((await stack.objects.get(dicomAttributesKey(r.object_key))).toString()) as Record<string, unknown>));
}

describe('DICOM ingest', () => {
  it('stores a 16-bit DICOS DX image with its pixel spacing and reaches a verdict', async () => {
    const image = dicomFile({ modality: 'DX', width: 160, height: 64, pixelSpacingMm: [2.5, 2], pixel: cargo(160, 64) });
    const res = await pushScan(stack.url, { key: stack.key, metadata: containerMeta('dcm-dx-1'), images: { image } });
    expect(res.status).toBe(202);
    const done = await verdictOf('dcm-dx-1');
    expect(done.body.images).toEqual([{ role: 'image', format: 'dicom', width: 160, height: 64, bitDepth: 16, bytes: image.length }]);
    expect((done.body.verdict as { decision: string }).decision).toBe('review');
    const [attrs] = await storedAttributes('dcm-dx-1');
    expect(attrs).toMatchObject({ modality: 'DX', frames: 1, bitsAllocated: 16, pixelSpacingMm: [2.5, 2], transferSyntaxUid: TRANSFER_SYNTAX.explicitLittle });
    // The stored object is the file as sent, byte for byte.
    const key = (await stack.db.db.query<{ object_key: string }>(`SELECT object_key FROM scan_images WHERE scan_id = 'dcm-dx-1'`)).rows[0]!.object_key;
    expect((await stack.objects.get(key)).equals(image)).toBe(true);
  });

  it('takes frame 0 of a multi-frame signed CT (implicit VR) and records the frame count', async () => {
    const image = dicomFile({ modality: 'CT', width: 48, height: 40, frames: 3, signed: true, transferSyntax: TRANSFER_SYNTAX.implicitLittle, pixel: (x, y, f) => (x > 10 && x < 30 ? 800 : -1000) + f });
    const res = await pushScan(stack.url, { key: stack.key, metadata: parcelMeta('dcm-ct-3'), images: { image } });
    expect(res.status).toBe(202);
    const done = await verdictOf('dcm-ct-3');
    expect(done.body.images).toMatchObject([{ format: 'dicom', width: 48, height: 40, bitDepth: 16 }]);
    const [attrs] = await storedAttributes('dcm-ct-3');
    expect(attrs).toMatchObject({ modality: 'CT', frames: 3, pixelRepresentation: 1, pixelSpacingMm: null });
  });

  it('accepts a dual-energy DICOM pair and answers a retry with the same scan', async () => {
    const high = dicomFile({ width: 96, height: 32, pixel: cargo(96, 32), sopInstanceUid: '1.2.3.4.1' });
    const low = dicomFile({ width: 96, height: 32, pixel: (x, y) => cargo(96, 32)(x, y) / 2, sopInstanceUid: '1.2.3.4.2' });
    expect((await pushScan(stack.url, { key: stack.key, metadata: containerMeta('dcm-de'), images: { high, low } })).status).toBe(202);
    expect((await verdictOf('dcm-de')).body.status).toBe('assessed');
    expect((await pushScan(stack.url, { key: stack.key, metadata: containerMeta('dcm-de'), images: { high, low } })).status).toBe(200);
  });

  it('refuses what it cannot read, storing nothing', async () => {
    const cases: Array<[string, Buffer, number, string]> = [
      ['dcm-jpeg', dicomFile({ width: 16, height: 16, transferSyntax: TRANSFER_SYNTAX.jpegBaseline }), 400, 'IMAGE_UNSUPPORTED'],
      ['dcm-big', dicomFile({ width: 16, height: 16, transferSyntax: TRANSFER_SYNTAX.explicitBig }), 400, 'IMAGE_UNSUPPORTED'],
      ['dcm-rgb', dicomFile({ width: 16, height: 16, bitsAllocated: 8, photometric: 'RGB' }), 400, 'IMAGE_UNSUPPORTED'],
      ['dcm-tiny', dicomFile({ width: 4, height: 4 }), 400, 'IMAGE_UNSUPPORTED'],
      ['dcm-trunc', dicomFile({ width: 64, height: 64, truncateBy: 1000 }), 400, 'IMAGE_CORRUPT'],
      ['dcm-bomb', dicomFile({ width: 16, height: 16, headerSize: [65535, 65535] }), 413, 'IMAGE_TOO_LARGE'],
    ];
    for (const [scanId, image, status, code] of cases) {
      const res = await pushScan(stack.url, { key: stack.key, metadata: containerMeta(scanId), images: { image } });
      expect([res.status, res.body.code], scanId).toEqual([status, code]);
    }
    const rows = await stack.db.db.query(`SELECT scan_id FROM scans WHERE scan_id LIKE 'dcm-%' AND scan_id IN (${cases.map((c) => `'${c[0]}'`).join(',')})`);
    expect(rows.rows).toEqual([]);
  });
});
