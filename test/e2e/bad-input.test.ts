// Malformed input of every kind: the server answers 4xx with a stable code, never crashes, keeps memory
// bounded, and nothing already stored changes. Corpus in test/fixtures/bad (regenerate with make.ts),
// plus property-based fuzzing of the ingest endpoint.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { dualEnergyPair, png8 } from '../helpers/images.js';
import { getJson, pollUntil, pushScan } from '../helpers/push.js';
import { startStack, type TestStack } from '../helpers/stack.js';

const BAD = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'bad');
const expected = JSON.parse(readFileSync(join(BAD, 'expected.json'), 'utf8')) as Record<string, { status: number; code: string }>;

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ database: 'pglite' });
  // A scan accepted before the onslaught: it must come out unchanged.
  const images = await dualEnergyPair(96, 48, 5);
  expect((await pushScan(stack.url, { key: stack.key, metadata: meta('bad-baseline'), images })).status).toBe(202);
  await pollUntil(() => getJson(stack.url, '/v1/scans/bad-baseline', stack.key), (r) => r.body.status === 'assessed');
});
afterAll(async () => stack?.close());

const meta = (scanId: string, extra: Record<string, unknown> = {}) => ({
  scanId, scannerId: 'H986-01', modality: 'container-xray', containerNo: 'CSQU3054383', capturedAt: '2026-11-23T08:00:00Z', ...extra,
});

async function storedState() {
  const scans = await stack.db.db.query(`SELECT scan_id, content_hash, status FROM scans ORDER BY scan_id`);
  const images = await stack.db.db.query(`SELECT scan_id, role, sha256 FROM scan_images ORDER BY scan_id, role`);
  return { scans: scans.rows, images: images.rows };
}

describe('malformed-input corpus', () => {
  it.each(Object.entries(expected))('%s → %o', async (name, want) => {
    const res = await pushScan(stack.url, { key: stack.key, metadata: meta(`bad-${name}`), images: { image: readFileSync(join(BAD, name)) } });
    expect({ status: res.status, code: res.body.code }).toEqual(want);
  });

  it('rejects metadata that is oversized, not UTF-8, or has odd values, with METADATA_INVALID', async () => {
    const image = await png8(32, 32);
    const cases: Array<string> = [
      JSON.stringify(meta('big', { scannerId: 'x'.repeat(20_000) })),
      Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]).toString('latin1'),
      JSON.stringify(meta('neg', { weightKg: -1 })),
      JSON.stringify(meta('nan', { weightKg: 'NaN' })),
      JSON.stringify(meta('date', { capturedAt: 'yesterday' })),
      JSON.stringify(meta('extra', { dropTables: true })),
      JSON.stringify([1, 2, 3]),
      'null',
    ];
    for (const metadata of cases) {
      const res = await pushScan(stack.url, { key: stack.key, metadata, images: { image } });
      expect([400, 413], metadata.slice(0, 60)).toContain(res.status);
      expect(['METADATA_INVALID', 'PAYLOAD_TOO_LARGE'], metadata.slice(0, 60)).toContain(res.body.code);
    }
  });

  it('a non-multipart body is 415, an unknown part 400 PART_UNKNOWN', async () => {
    const json = await fetch(`${stack.url}/v1/scans`, { method: 'POST', body: '{}', headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' } });
    expect(json.status).toBe(415);
    const form = new FormData();
    form.append('metadata', JSON.stringify(meta('parts')));
    form.append('payload', new Blob([new Uint8Array(await png8(16, 16))]));
    const res = await fetch(`${stack.url}/v1/scans`, { method: 'POST', body: form, headers: { authorization: `Bearer ${stack.key}` } });
    expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([400, 'PART_UNKNOWN']);
  });

  it('metadata sent as a file part: read as JSON when small, refused with METADATA_INVALID when over 16 KiB (not buffered whole)', async () => {
    const image = new Blob([new Uint8Array(await png8(16, 16))]);
    const push = (metadata: Blob) => {
      const form = new FormData();
      form.append('metadata', metadata, 'metadata.json');
      form.append('image', image, 'scan.png');
      return fetch(`${stack.url}/v1/scans`, { method: 'POST', body: form, headers: { authorization: `Bearer ${stack.key}` } });
    };
    const small = await push(new Blob([JSON.stringify(meta('meta-file', { modality: 'parcel-xray', containerNo: undefined, waybill: 'WB-META-1' }))]));
    expect(small.status).toBe(202);
    await pollUntil(() => getJson(stack.url, '/v1/scans/meta-file', stack.key), (r) => r.body.status === 'assessed');
    // 4 MB of padding after a valid document
    const big = await push(new Blob([JSON.stringify(meta('meta-file-big')), ' '.repeat(4 * 1024 * 1024)]));
    expect([big.status, ((await big.json()) as { code: string }).code]).toEqual([400, 'METADATA_INVALID']);
    expect((await getJson(stack.url, '/v1/scans/meta-file-big', stack.key)).status).toBe(404);
  });
});

describe('NUL (U+0000), which PostgreSQL stores neither as text nor in JSONB', () => {
  const post = (path: string, body: string, key?: string) =>
    fetch(`${stack.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key && { authorization: `Bearer ${key}` }) }, body });
  it('a JSON body with NUL in any string is 400 BODY_INVALID, on public and authenticated routes alike', async () => {
    const before = await storedState();
    const login = await post('/v1/auth/login', '{"username":"reviewer\\u0000li","password":"x"}');
    expect([login.status, ((await login.json()) as { code: string }).code]).toEqual([400, 'BODY_INVALID']);
    // in a key too, deep inside, on a route that needs a key (the key is checked first)
    const risk = (await gatewaysRepo(stack.db.db).add('risk-nul-body', 'risk-control')).key;
    const nested = await post('/v1/subscriptions', '{"url":"https://example.test/hook","events":[{"a\\u0000":1}]}', risk);
    expect([nested.status, ((await nested.json()) as { code: string }).code]).toEqual([400, 'BODY_INVALID']);
    // the six characters \u0000 written out (an escaped backslash) are ordinary text: a wrong login, not a bad body
    const text = await post('/v1/auth/login', '{"username":"reviewer\\\\u0000li","password":"x"}');
    expect(text.status).toBe(401);
    expect(await storedState()).toEqual(before);
  });
  it('NUL in a query string reaching the database is 400 TEXT_INVALID, not a 500', async () => {
    const risk = (await gatewaysRepo(stack.db.db).add('risk-nul', 'risk-control')).key;
    const res = await getJson(stack.url, '/v1/verdicts?port=%00', risk);
    expect([res.status, res.body.code]).toEqual([400, 'TEXT_INVALID']);
    expect((await getJson(stack.url, '/v1/verdicts?port=CNTAO', risk)).status).toBe(200);
  });
});

describe('fuzzing the ingest endpoint', () => {
  it('random metadata and random bytes never get a 5xx, and never change what is stored', async () => {
    const before = await storedState();
    const rssBefore = process.memoryUsage().rss;
    const metadataArb = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.record({
        scanId: fc.oneof(fc.string({ maxLength: 140 }), fc.constant('bad-baseline')),
        scannerId: fc.string({ maxLength: 70 }),
        modality: fc.constantFrom('container-xray', 'parcel-ct', 'parcel-xray', 'mri', ''),
        containerNo: fc.oneof(fc.constant('CSQU3054383'), fc.string({ maxLength: 14 })),
        capturedAt: fc.oneof(fc.constant('2026-11-23T08:00:00Z'), fc.string({ maxLength: 30 })),
        weightKg: fc.oneof(fc.double(), fc.integer()),
      }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
    );
    const bytesArb = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      fc.uint8Array({ maxLength: 512 }).map((b) => new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...b])),
      fc.uint8Array({ maxLength: 512 }).map((b) => new Uint8Array([0xff, 0xd8, 0xff, ...b])),
    );
    await fc.assert(
      fc.asyncProperty(metadataArb, bytesArb, fc.constantFrom('image', 'high'), async (metadata, bytes, role) => {
        const res = await pushScan(stack.url, { key: stack.key, metadata, images: { [role]: Buffer.from(bytes) } });
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(typeof res.body.code).toBe('string');
      }),
      { numRuns: 120, seed: 20261123 },
    );
    expect(await storedState()).toEqual(before);
    // Memory stays bounded: 120 rejected uploads must not pile up buffers.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(300 * 1024 * 1024);
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
  });
});

describe('the same scan pushed twice at once', () => {
  it('stores one scan: one 202, the other 200 with the same scan', async () => {
    const images = await dualEnergyPair(128, 64, 9);
    const [a, b] = await Promise.all([
      pushScan(stack.url, { key: stack.key, metadata: meta('twice-at-once'), images }),
      pushScan(stack.url, { key: stack.key, metadata: meta('twice-at-once'), images }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 202]);
    const rows = await stack.db.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM scan_images WHERE scan_id = 'twice-at-once'`);
    expect(rows.rows[0]!.n).toBe(2);
  });
});
