// The reference library loop through HTTP and the pipeline: a scan verified by inspection (one declared
// code, with an embedding) becomes a reference at once; the next scan of that code then matches it and the
// review screen shows it with a signed thumbnail URL. Multi-code declarations wait for a supervisor's
// approval; removal is audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelCard, ModelRuntime } from '../../models/runtime/types.js';
import { removeReference } from '../../scripts/references.js';
import { auditRepo } from '../../storage/repos/audit.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { referencesRepo } from '../../storage/repos/references.js';
import { verdictsRepo } from '../../storage/repos/verdicts.js';
import { putDeclaration, tyreDeclaration } from '../helpers/declarations.js';
import { call, containerNo, makeUser, pushAndRoute, type TestUser } from '../helpers/review.js';
import { startStack, type TestStack } from '../helpers/stack.js';

/** An embedder whose vector depends only on the rendering's mean grey (deterministic, no onnxruntime). */
const fakeEmbedder: ModelRuntime = {
  modelsFor: (m) => (m === 'container-xray' ? [{ name: 'fake-embed', version: '1.0.0', task: 'embed' } as ModelCard] : []),
  infer: async () => [{ model: 'fake-embed', version: '1.0.0', task: 'embed', embedding: [0.6, 0.8, 0] }],
  close: async () => {},
};

let stack: TestStack;
let sup: TestUser, risk: TestUser, rev: TestUser;
let sourceKey: string;
const cns: string[] = [];

const machineReferences = async (scanId: string) => {
  const v = await verdictsRepo(stack.db.db).machineVerdict(scanId);
  return (v?.declaredVsSeen as { references?: { status: string; libraryCount: number } } | undefined)?.references;
};

beforeAll(async () => {
  stack = await startStack({ runtime: fakeEmbedder });
  const db = stack.db.db;
  [sup, risk, rev] = await Promise.all([makeUser(db, 'sue', 'supervisor'), makeUser(db, 'rick', 'risk-control'), makeUser(db, 'rae', 'reviewer', 'A')]);
  sourceKey = (await gatewaysRepo(db).add('decl', 'declaration-source')).key;
  for (let i = 0; i < 3; i++) cns.push(await containerNo('REF', 20 + i));
  await putDeclaration(stack.url, sourceKey, tyreDeclaration('D-R0', cns[0]!));
  await putDeclaration(stack.url, sourceKey, tyreDeclaration('D-R1', cns[1]!));
  const mixed = tyreDeclaration('D-R2', cns[2]!);
  mixed.lines = [...mixed.lines, { hsCode: '7308900000', description: 'steel structures', quantity: 10, unit: 'pcs', grossKg: 2000 }];
  await putDeclaration(stack.url, sourceKey, mixed);
  await pushAndRoute(stack.url, stack.key, db, 'ref-0', cns[0]!, 1);
}, 60_000);
afterAll(async () => stack?.close());

describe('reference library', () => {
  it('no references yet: the machine verdict says so and falls back to the classifier', async () => {
    expect(await machineReferences('ref-0')).toMatchObject({ status: 'no-references', libraryCount: 0 });
  });

  it('an inspection that finds the declared goods promotes the scan; the next scan matches it', async () => {
    const r = await call<{ references: string[]; referenceCandidates: string[] }>(stack.url, 'POST', '/v1/inspections', risk.token, { scanId: 'ref-0', result: 'nothing' });
    expect(r.status).toBe(201);
    expect(r.body.referenceCandidates).toEqual(['4011100000']);
    expect(r.body.references).toHaveLength(1);
    const ref = await referencesRepo(stack.db.db).get(r.body.references[0]!);
    expect(ref).toMatchObject({ hsCode: '4011100000', scanId: 'ref-0', source: 'inspection', model: 'fake-embed', addedBy: 'rick' });

    await pushAndRoute(stack.url, stack.key, stack.db.db, 'ref-1', cns[1]!, 2);
    expect(await machineReferences('ref-1')).toMatchObject({ status: 'matches-declared', libraryCount: 1 });

    // the review screen shows the reference with its similarity and a signed URL that serves the image
    const detail = await call<{ references: Array<{ referenceId: string; group: string; similarity: number; url: string }> }>(stack.url, 'GET', '/v1/review/items/ref-1', rev.token);
    expect(detail.body.references).toEqual([expect.objectContaining({ referenceId: ref!.id, group: 'declared', hsCode: '4011100000', similarity: 1 })]);
    const img = await fetch(`${stack.url}${detail.body.references[0]!.url}`);
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/png');
    const unsigned = await fetch(`${stack.url}/v1/references/${ref!.id}/image`);
    expect(unsigned.status).toBe(403);
  });

  it('a multi-code declaration waits for a supervisor; approval is once only and audited', async () => {
    await pushAndRoute(stack.url, stack.key, stack.db.db, 'ref-2', cns[2]!, 3);
    const r = await call<{ references: string[] }>(stack.url, 'POST', '/v1/inspections', sup.token, { scanId: 'ref-2', result: 'nothing' });
    expect(r.body.references).toEqual([]);
    const list = await call<{ candidates: Array<{ id: string; scanId: string; hsCode: string }> }>(stack.url, 'GET', '/v1/references/candidates', sup.token);
    const steel = list.body.candidates.find((c) => c.scanId === 'ref-2' && c.hsCode === '7308900000')!;
    expect(steel).toBeDefined();
    const ok = await call<{ referenceId: string }>(stack.url, 'POST', `/v1/references/${steel.id}/approve`, sup.token);
    expect(ok.status).toBe(201);
    const again = await call(stack.url, 'POST', `/v1/references/${steel.id}/approve`, sup.token);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('CANDIDATE_SETTLED');
    expect((await call(stack.url, 'POST', '/v1/references/999999/approve', sup.token)).body.code).toBe('CANDIDATE_NOT_FOUND');
    const audit = await auditRepo(stack.db.db).list(`reference:${ok.body.referenceId}`);
    expect(audit.map((e) => e.payload.action)).toEqual(['reference.added']);
    expect(audit[0]!.payload).toMatchObject({ actor: 'sue', detail: { source: 'approval', hsCode: '7308900000' } });
  });

  it('removal takes a reference out of matching and is audited with the reason', async () => {
    const refs = referencesRepo(stack.db.db);
    const [first] = (await refs.list({ hsPrefix: '4011' }));
    expect(await removeReference(stack.db.db, first!.id, 'cli:test', 'wrong code at import')).toMatchObject({ id: first!.id });
    expect(await removeReference(stack.db.db, first!.id, 'cli:test', 'again')).toBeNull();
    expect((await refs.vectors('container-xray', 'fake-embed', '1.0.0')).map((v) => v.referenceId)).not.toContain(first!.id);
    const audit = await auditRepo(stack.db.db).list(`reference:${first!.id}`);
    expect(audit.at(-1)!.payload).toMatchObject({ action: 'reference.removed', actor: 'cli:test', detail: { reason: 'wrong code at import' } });
    expect((await auditRepo(stack.db.db).verify()).ok).toBe(true);
  });
});
