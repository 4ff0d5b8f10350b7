// The container register: the terminal (or the declaration source, or risk control) records a box's tare;
// the manifest check weighs a container whose declaration gives no tare against it. Through HTTP and the
// pipeline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRepo } from '../../storage/repos/audit.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { putDeclaration, tyreDeclaration } from '../helpers/declarations.js';
import { dualEnergyPair } from '../helpers/images.js';
import { getJson, pollUntil, pushScan } from '../helpers/push.js';
import { call, containerNo, makeUser, type TestUser } from '../helpers/review.js';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
let terminalKey: string, sourceKey: string;
let reviewer: TestUser, sup: TestUser;
let box: string;

interface ContainerAnswer {
  containerNo: string;
  tareKg: number;
  source: string | null;
  updatedBy: string;
}

beforeAll(async () => {
  stack = await startStack();
  const db = stack.db.db;
  terminalKey = (await gatewaysRepo(db).add('quay-tos', 'terminal')).key;
  sourceKey = (await gatewaysRepo(db).add('cr-decl', 'declaration-source')).key;
  [reviewer, sup] = await Promise.all([makeUser(db, 'cr-rev', 'reviewer', 'A'), makeUser(db, 'cr-sup', 'supervisor')]);
  box = await containerNo('TWR', 4711);
});
afterAll(async () => {
  await stack?.close();
});

describe('container register', () => {
  it('records a tare (201, then 200 on a change), audited, and answers it', async () => {
    const first = await call<ContainerAnswer>(stack.url, 'PUT', `/v1/containers/${box}`, terminalKey, { tareKg: 3_750, source: 'CSC plate' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ containerNo: box, tareKg: 3_750, source: 'CSC plate', updatedBy: 'quay-tos' });
    // the number as people write it (lower case, a space before the check digit) is the same box
    const spaced = `${box.slice(0, 10).toLowerCase()} ${box.slice(10)}`;
    const second = await call<ContainerAnswer>(stack.url, 'PUT', `/v1/containers/${encodeURIComponent(spaced)}`, sourceKey, { tareKg: 3_800 });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ containerNo: box, tareKg: 3_800, source: null, updatedBy: 'cr-decl' });
    const read = await call<ContainerAnswer>(stack.url, 'GET', `/v1/containers/${box}`, sup.token);
    expect(read.status).toBe(200);
    expect(read.body.tareKg).toBe(3_800);
    const audit = auditRepo(stack.db.db);
    expect((await audit.list(`container:${box}`)).map((e) => [e.payload.actor, e.payload.action, e.payload.detail])).toEqual([
      ['quay-tos', 'container.tare-set', { from: null, to: 3_750, source: 'CSC plate' }],
      ['cr-decl', 'container.tare-set', { from: 3_750, to: 3_800, source: null }],
    ]);
  });

  it('refuses bad numbers and weights with stable codes, and other roles', async () => {
    const wrongDigit = `${box.slice(0, 10)}${(Number(box[10]) + 1) % 10}`;
    const bad = await call<{ code: string; details: { field: string; expectedCheckDigit: number } }>(stack.url, 'PUT', `/v1/containers/${wrongDigit}`, terminalKey, { tareKg: 3_800 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'CONTAINER_NO_INVALID', details: { field: 'containerNo', expectedCheckDigit: Number(box[10]) } });
    // a JSON body is taken as sent: a number written as text, or a property the route does not know, is refused
    // rather than converted or dropped
    let last: { code: string; details?: { field?: string } } | undefined;
    for (const body of [{ tareKg: 0 }, { tareKg: -3 }, { tareKg: 25_000 }, { tareKg: 'heavy' }, {}, { tareKg: null }, { tareKg: '3800' }, { tareKg: 3_800, tareKgs: 3_900 }]) {
      const r = await call<{ code: string; details?: { field?: string } }>(stack.url, 'PUT', `/v1/containers/${box}`, terminalKey, body);
      expect([r.status, r.body.code]).toEqual([400, 'WEIGHT_INVALID']);
      last = r.body;
    }
    expect(last?.details?.field).toBe('tareKgs'); // the misspelt property is named
    expect((await call(stack.url, 'PUT', `/v1/containers/${box}`, stack.key, { tareKg: 1 })).status).toBe(403); // a scanner gateway
    expect((await call(stack.url, 'PUT', `/v1/containers/${box}`, reviewer.token, { tareKg: 1 })).status).toBe(403);
    expect((await call(stack.url, 'PUT', `/v1/containers/${box}`, undefined, { tareKg: 1 })).status).toBe(401);
    expect((await call<ContainerAnswer>(stack.url, 'GET', `/v1/containers/${box}`, sup.token)).body.tareKg).toBe(3_800); // unchanged
    const unknown = await call<{ code: string }>(stack.url, 'GET', `/v1/containers/${await containerNo('TWR', 4712)}`, sup.token);
    expect([unknown.status, unknown.body.code]).toEqual([404, 'CONTAINER_NOT_REGISTERED']);
  });

  it('weighs a container whose declaration gives no tare against the register', async () => {
    // 800 tyres, 9,000 kg declared, no tare: 3,800 + 9,000 = 12,800 kg expected; the weighbridge says 16,000
    const declaration = tyreDeclaration('D-CR-1', box, { containers: [{ containerNo: box, sealNo: 'CN7654321' }] });
    expect((await putDeclaration(stack.url, sourceKey, declaration)).status).toBe(201);
    const metadata = { scanId: 'cr-1', scannerId: 'H986-QD-01', modality: 'container-xray', containerNo: box, capturedAt: '2026-12-03T09:00:00Z', weightKg: 16_000 };
    expect((await pushScan(stack.url, { key: stack.key, metadata, images: await dualEnergyPair(96, 48, 4) })).status).toBe(202);
    const done = await pollUntil(() => getJson(stack.url, '/v1/scans/cr-1', stack.key), (r) => r.body.status === 'assessed', 30_000);
    const verdict = done.body.verdict as { reasons: Array<{ code: string; detail: string }>; declaredVsSeen: { weight: Record<string, unknown> } };
    expect(verdict.declaredVsSeen.weight).toMatchObject({ measuredKg: 16_000, tareKg: 3_800, tareSource: 'register', expectedKg: 12_800, deviationPct: 25 });
    const reason = verdict.reasons.find((r) => r.code === 'WEIGHT_MISMATCH');
    expect(reason?.detail).toContain('tare 3800 kg (container register)');
  });
});
