// Enterprise records for risk control: declarations create them with the declared credit level;
// GET /v1/enterprises/:id shows the level and counts of the enterprise's recent verdicts and inspection
// results; risk control sets the level (audited), later declarations no longer change it, and new scans
// are assessed with it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRepo } from '../../storage/repos/audit.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { putDeclaration, tyreDeclaration } from '../helpers/declarations.js';
import { call, containerNo, makeUser, pushAndRoute, type TestUser } from '../helpers/review.js';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
let risk: TestUser, sup: TestUser, reviewer: TestUser, admin: TestUser;
let sourceKey: string, riskClientKey: string;
const cn: string[] = [];
const ENT = { id: 'ENT-4711', name: 'Huangdao Rubber Trading', creditLevel: 'aeo-general' };

interface EnterpriseAnswer {
  enterprise: { id: string; name: string | null; creditLevel: string; creditSource: string; reason: string | null; updatedBy: string };
  summary: {
    days: number;
    declarations: number;
    scans: number;
    verdicts: Record<'machine' | 'reviewer' | 'supervisor' | 'inspection', { clear: number; review: number; hold: number }>;
    inspections: Record<'nothing' | 'undeclared-goods' | 'prohibited-item' | 'quantity-difference' | 'total', number>;
  };
}

beforeAll(async () => {
  stack = await startStack({ database: 'postgres', env: { DOUBLE_BLIND_RATE: '0' } });
  const db = stack.db.db;
  [risk, sup, reviewer, admin] = await Promise.all([
    makeUser(db, 'ent-risk', 'risk-control'),
    makeUser(db, 'ent-sup', 'supervisor'),
    makeUser(db, 'ent-rev', 'reviewer', 'A'),
    makeUser(db, 'ent-admin', 'admin'),
  ]);
  sourceKey = (await gatewaysRepo(db).add('ent-decl', 'declaration-source')).key;
  riskClientKey = (await gatewaysRepo(db).add('ent-risk-client', 'risk-control')).key;
  for (let i = 0; i < 4; i++) cn.push(await containerNo('ENT', 300 + i));
  await putDeclaration(stack.url, sourceKey, tyreDeclaration('D-ENT-0', cn[0]!, { enterprise: ENT }));
  await putDeclaration(stack.url, sourceKey, tyreDeclaration('D-ENT-1', cn[1]!, { enterprise: ENT }));
  await pushAndRoute(stack.url, stack.key, db, 'ent-0', cn[0]!, 80);
  await pushAndRoute(stack.url, stack.key, db, 'ent-1', cn[1]!, 81);
});
afterAll(async () => stack?.close());

const get = (token: string, id = ENT.id) => call<EnterpriseAnswer>(stack.url, 'GET', `/v1/enterprises/${id}`, token);

describe('enterprise records', () => {
  it('a declaration creates the record; risk control sees its level and what happened to its shipments', async () => {
    // A reviewer decides one scan; an inspection finds undeclared goods in the other.
    await call(stack.url, 'POST', '/v1/review/items/ent-0/claim', reviewer.token);
    expect((await call(stack.url, 'POST', '/v1/review/items/ent-0/decision', reviewer.token, { decision: 'clear', reason: 'tyres as declared' })).body).toMatchObject({ state: 'decided' });
    expect((await call(stack.url, 'POST', '/v1/inspections', risk.token, { scanId: 'ent-1', result: 'undeclared-goods', findings: 'cigarettes' })).status).toBe(201);

    const r = await get(risk.token);
    expect(r.status).toBe(200);
    expect(r.body.enterprise).toMatchObject({ id: ENT.id, name: ENT.name, creditLevel: 'aeo-general', creditSource: 'declaration', reason: null });
    expect(r.body.summary).toMatchObject({
      days: 90,
      declarations: 2,
      scans: 2,
      verdicts: {
        machine: { clear: 0, review: 2, hold: 0 },
        reviewer: { clear: 1, review: 0, hold: 0 },
        supervisor: { clear: 0, review: 0, hold: 0 },
        inspection: { clear: 0, review: 0, hold: 1 },
      },
      inspections: { nothing: 0, 'undeclared-goods': 1, 'prohibited-item': 0, 'quantity-difference': 0, total: 1 },
    });
    // Supervisors, admins and risk-control clients read it too; reviewers do not.
    expect((await get(sup.token)).status).toBe(200);
    expect((await get(admin.token)).status).toBe(200);
    expect((await get(riskClientKey)).status).toBe(200);
    expect((await get(reviewer.token)).status).toBe(403);
    expect((await get(risk.token, 'ENT-NOBODY')).body).toMatchObject({ code: 'ENTERPRISE_NOT_FOUND' });
  });

  it('risk control sets the level: audited, kept over later declarations, and used by the assessment', async () => {
    const body = { creditLevel: 'dishonest', reason: 'undeclared cigarettes found on inspection' };
    expect((await call(stack.url, 'PUT', `/v1/enterprises/${ENT.id}`, reviewer.token, body)).status).toBe(403);
    expect((await call(stack.url, 'PUT', `/v1/enterprises/${ENT.id}`, sup.token, body)).status).toBe(403);
    expect((await call(stack.url, 'PUT', `/v1/enterprises/${ENT.id}`, risk.token, { creditLevel: 'excellent', reason: 'x' })).status).toBe(400);
    expect((await call(stack.url, 'PUT', `/v1/enterprises/${ENT.id}`, risk.token, { creditLevel: 'dishonest' })).status).toBe(400);
    const set = await call<EnterpriseAnswer>(stack.url, 'PUT', `/v1/enterprises/${ENT.id}`, risk.token, body);
    expect(set.status).toBe(200);
    expect(set.body.enterprise).toMatchObject({ creditLevel: 'dishonest', creditSource: 'risk-control', reason: body.reason, updatedBy: 'ent-risk', name: ENT.name });
    const audit = auditRepo(stack.db.db);
    expect((await audit.list(`enterprise:${ENT.id}`)).map((e) => [e.payload.actor, e.payload.action, e.payload.detail])).toEqual([
      ['ent-risk', 'enterprise.credit-level-set', { from: 'aeo-general', to: 'dishonest', reason: body.reason }],
    ]);
    expect(await audit.verify()).toMatchObject({ ok: true });

    // A later declaration still says aeo-advanced: the record keeps risk control's level.
    await putDeclaration(stack.url, sourceKey, tyreDeclaration('D-ENT-2', cn[2]!, { enterprise: { ...ENT, creditLevel: 'aeo-advanced' } }));
    expect((await get(risk.token)).body.enterprise).toMatchObject({ creditLevel: 'dishonest', creditSource: 'risk-control' });
    // The declaration itself is stored as filed.
    expect((await call<{ declaration: { enterprise: { creditLevel: string } } }>(stack.url, 'GET', '/v1/declarations/D-ENT-2', risk.token)).body.declaration.enterprise.creditLevel).toBe('aeo-advanced');
    // The new scan is assessed with the record's level.
    await pushAndRoute(stack.url, stack.key, stack.db.db, 'ent-2', cn[2]!, 82);
    const scan = await call<{ verdict: { reasons: Array<{ code: string }> } }>(stack.url, 'GET', '/v1/scans/ent-2', sup.token);
    expect(scan.body.verdict.reasons.map((x) => x.code)).toContain('DISHONEST_SHIPPER');
    const queue = await call<{ items: Array<{ scanId: string; badges: string[] }> }>(stack.url, 'GET', '/v1/review/queue', reviewer.token);
    expect(queue.body.items.find((i) => i.scanId === 'ent-2')!.badges).not.toContain('aeo');
  });

  it('risk control may create the record of an enterprise no declaration named yet', async () => {
    const created = await call<EnterpriseAnswer>(stack.url, 'PUT', '/v1/enterprises/ENT-NEW', riskClientKey, { creditLevel: 'ordinary', reason: 'registered', name: 'New Shipper Ltd' });
    expect(created.status).toBe(201);
    expect(created.body.enterprise).toMatchObject({ id: 'ENT-NEW', name: 'New Shipper Ltd', creditLevel: 'ordinary', creditSource: 'risk-control', updatedBy: 'ent-risk-client' });
    expect(created.body.summary).toMatchObject({ declarations: 0, scans: 0, inspections: { total: 0 } });
    const byAdmin = await call<EnterpriseAnswer>(stack.url, 'PUT', '/v1/enterprises/ENT-NEW', admin.token, { creditLevel: 'aeo-advanced', reason: 'certified' });
    expect([byAdmin.status, byAdmin.body.enterprise.creditLevel, byAdmin.body.enterprise.name]).toEqual([200, 'aeo-advanced', 'New Shipper Ltd']);
  });
});
