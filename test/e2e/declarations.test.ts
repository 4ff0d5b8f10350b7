// Declarations meet scans by container number or waybill, whichever arrives first; bad declarations are
// refused with the failing field and a stable code; only declaration sources and risk control may send them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { putDeclaration, tyreDeclaration } from '../helpers/declarations.js';
import { dualEnergyPair } from '../helpers/images.js';
import { getJson, pollUntil, pushScan } from '../helpers/push.js';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
let sourceKey: string;
beforeAll(async () => {
  // A long wait: a scan without its declaration must wait, not be assessed at once.
  stack = await startStack({ database: 'postgres', env: { DECLARATION_WAIT_MS: '600000' } });
  sourceKey = (await gatewaysRepo(stack.db.db).add('customs-declarations', 'declaration-source')).key;
});
afterAll(async () => stack?.close());

const scanMeta = (scanId: string, containerNo: string) => ({ scanId, scannerId: 'H986-01', modality: 'container-xray', containerNo, capturedAt: '2026-11-23T08:00:00Z', weightKg: 12_900 });
const verdictOf = (scanId: string) =>
  pollUntil(() => getJson(stack.url, `/v1/scans/${scanId}`, stack.key), (r) => r.body.verdict !== null, 30_000);

describe('declarations and scans', () => {
  it('declaration first, then the scan: assessed against it', async () => {
    expect((await putDeclaration(stack.url, sourceKey, tyreDeclaration('DEC-1', 'MSKU9070323'))).status).toBe(201);
    const { high, low } = await dualEnergyPair(160, 64, 3);
    expect((await pushScan(stack.url, { key: stack.key, metadata: scanMeta('dec-scan-1', 'MSKU9070323'), images: { high, low } })).status).toBe(202);
    const v = (await verdictOf('dec-scan-1')).body.verdict as { reasons: Array<{ code: string }>; declarationId: string };
    expect(v.declarationId).toBe('DEC-1');
    expect(v.reasons.map((r) => r.code)).not.toContain('DECLARATION_MISSING');
  });

  it('scan first: it waits (no verdict) until its declaration arrives, then is assessed', async () => {
    const { high, low } = await dualEnergyPair(160, 64, 4);
    expect((await pushScan(stack.url, { key: stack.key, metadata: scanMeta('dec-scan-2', 'TGHU8765436'), images: { high, low } })).status).toBe(202);
    const waiting = await pollUntil(() => getJson(stack.url, '/v1/scans/dec-scan-2', stack.key), (r) => r.body.status === 'inferred', 20_000);
    expect(waiting.body.status).toBe('inferred');
    await new Promise((r) => setTimeout(r, 1500)); // longer than the sweeper's idle time in tests
    expect((await getJson(stack.url, '/v1/scans/dec-scan-2', stack.key)).body.verdict).toBeNull();
    const put = await putDeclaration(stack.url, sourceKey, tyreDeclaration('DEC-2', 'TGHU8765436'));
    expect(put.status).toBe(201);
    expect(put.body.linkedScans).toEqual(['dec-scan-2']);
    const v = (await verdictOf('dec-scan-2')).body.verdict as { declarationId: string };
    expect(v.declarationId).toBe('DEC-2');
  });

  it('an amendment bumps the version', async () => {
    const again = await putDeclaration(stack.url, sourceKey, tyreDeclaration('DEC-1', 'MSKU9070323', { perishable: true }));
    expect(again.status).toBe(200);
    expect(again.body.version).toBe(2);
  });

  it('refuses bad declarations with the failing field and a stable code', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [tyreDeclaration('DEC-BAD-1', 'MSKU9070323', { lines: [{ hsCode: '0109000000', description: 'x', quantity: 1, unit: 'pcs', grossKg: 1 }] }), 'HS_CODE_UNKNOWN', 'lines[0].hsCode'],
      [tyreDeclaration('DEC-BAD-2', 'MSKU9070324'), 'CONTAINER_NO_INVALID', 'containers[0].containerNo'],
      [tyreDeclaration('DEC-BAD-3', 'MSKU9070323', { lines: [{ hsCode: '4011100000', description: 'tyres', quantity: 5, unit: 'pcs', grossKg: -3 }] }), 'WEIGHT_INVALID', 'lines[0].grossKg'],
      [tyreDeclaration('DEC-BAD-4', 'MSKU9070323', { enterprise: { id: 'E', creditLevel: 'gold' } }), 'DECLARATION_INVALID', 'enterprise.creditLevel'],
      // a number sent as text is refused, not converted
      [tyreDeclaration('DEC-BAD-5', 'MSKU9070323', { lines: [{ hsCode: '4011100000', description: 'tyres', quantity: 5, unit: 'pcs', grossKg: '3800' }] }), 'DECLARATION_INVALID', 'lines[0].grossKg'],
    ];
    for (const [body, code, field] of cases) {
      const res = await putDeclaration(stack.url, sourceKey, body);
      expect(res.status, code).toBe(400);
      expect(res.body.code, JSON.stringify(res.body)).toBe(code);
      if (field) expect((res.body.details as { field: string }).field).toBe(field);
    }
    const stored = await stack.db.db.query(`SELECT declaration_id FROM declarations WHERE declaration_id LIKE 'DEC-BAD-%'`);
    expect(stored.rows).toEqual([]);
  });

  it('a gateway key may not send declarations (403), no key is 401', async () => {
    const asGateway = await putDeclaration(stack.url, stack.key, tyreDeclaration('DEC-GW', 'MSKU9070323'));
    expect([asGateway.status, asGateway.body.code]).toEqual([403, 'FORBIDDEN']);
    const anonymous = await fetch(`${stack.url}/v1/declarations/DEC-X`, { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(anonymous.status).toBe(401);
  });
});
