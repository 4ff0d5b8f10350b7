// The worker keeps the reference vectors in memory: it must read them again after an addition or a removal
// (by another process, through the database) and not on every scan otherwise. A reference made from a long
// container's scan keeps its tile vectors, and the library serves them with its whole-scan vector.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promoteCandidate } from '../../api/routes/references/promote.js';
import { cachedReferenceLibrary } from '../../pipeline/reference-library.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { inspectionsRepo } from '../../storage/repos/inspections.js';
import { referencesRepo } from '../../storage/repos/references.js';
import { scansRepo } from '../../storage/repos/scans.js';
import { verdictsRepo } from '../../storage/repos/verdicts.js';
import { pgliteTestDb, postgresTestDb, type TestDb } from '../helpers/databases.js';

describe.each([['PostgreSQL', postgresTestDb], ['PGlite', pgliteTestDb]] as const)('reference library cache on %s', (_name, open) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await open();
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('serves repeated scans from memory and sees additions and removals from the next scan on', async () => {
    const refs = referencesRepo(t.db);
    const add = (hsCode: string, embedding: number[], model = 'embed') =>
      refs.add({ hsCode, modality: 'container-xray', imageKey: `ref/${hsCode}.png`, model, modelVersion: '1.0.0', embedding, source: 'import', addedBy: 'test' });
    const lib = cachedReferenceLibrary(refs);
    const codes = async () => (await lib.vectors('container-xray', 'embed', '1.0.0')).map((v) => v.hsCode);

    expect(await codes()).toEqual([]);
    const first = await add('4011100000', [1, 0]);
    expect(await codes()).toEqual(['4011100000']);
    const loadsAfterAdd = lib.loads;
    expect(await codes()).toEqual(['4011100000']);
    expect(await codes()).toEqual(['4011100000']);
    expect(lib.loads).toBe(loadsAfterAdd); // unchanged library: no re-read

    await add('4802550000', [0, 1]);
    await add('1001990000', [0.5, 0.5], 'other-model'); // another model's library: not this one
    expect(await codes()).toEqual(['4011100000', '4802550000']);

    await refs.remove(first, 'supervisor', 'wrong code');
    expect(await codes()).toEqual(['4802550000']);
    // removing one and adding one keeps the count but still changes the library
    const second = (await lib.vectors('container-xray', 'embed', '1.0.0'))[0]!.referenceId;
    await refs.remove(second, 'supervisor', 'blurred');
    await add('7208100000', [0.2, 0.8]);
    expect(await codes()).toEqual(['7208100000']);
  });

  it('a reference made from a long container\'s scan stores its tile vectors; a mixed load\'s does not', async () => {
    const gatewayId = (await gatewaysRepo(t.db).add(`gw-tiles-${Date.now()}`)).gateway.id;
    const tiles = [
      { x: 0, width: 440, embedding: [1, 0] },
      { x: 220, width: 440, embedding: [0.6, 0.8] },
      { x: 460, width: 440, embedding: [0, 1] },
    ];
    /** A container scan the pipeline has embedded, then verified by an inspection finding `hsCodes`. */
    const verified = async (scanId: string, hsCodes: string[]) => {
      const scans = scansRepo(t.db);
      await scans.insert({ scanId, gatewayId, scannerId: 'H986-01', modality: 'container-xray', containerNo: 'CSQU3054383', capturedAt: '2026-11-23T08:00:00.000Z', contentHash: scanId, images: [{ role: 'image', objectKey: `images/${scanId}.png`, format: 'png', width: 900, height: 200, channels: 1, bitDepth: 8, bytes: 100, sha256: scanId }] });
      await scans.markInferred(scanId, { outputs: [{ model: 'embed-t', version: '1.0.0', task: 'embed', embedding: [0.8, 0.6], tiles }], at: '2026-11-23T08:00:01.000Z' }, { renderingKey: `renderings/${scanId}.png`, rendering: { width: 900, height: 200, channels: 1 } });
      const v = await verdictsRepo(t.db).append({ scanId, subject: { containerNo: 'CSQU3054383' }, decision: 'clear', reasons: [], policyVersion: 'none', models: [], source: 'inspection', at: '2026-11-23T09:00:00.000Z' }, 'rick');
      const inspections = inspectionsRepo(t.db);
      const inspectionId = await inspections.add(t.db, { scanId, result: 'nothing', labels: [], photos: [], enterpriseId: null, inspector: 'rick', verdictId: v.verdict.id });
      await inspections.addReferenceCandidates(t.db, scanId, hsCodes, inspectionId);
      return { scan: (await scans.get(scanId))!, candidates: await referencesRepo(t.db).candidatesOf(t.db, inspectionId) };
    };
    const refs = referencesRepo(t.db);
    const lib = cachedReferenceLibrary(refs);
    expect(await lib.vectors('container-xray', 'embed-t', '1.0.0')).toEqual([]);

    const one = await verified('tile-one', ['4011100000']);
    const id = await t.db.transaction((tx) => promoteCandidate(tx, one.candidates[0]!, one.scan, { status: 'promoted', actor: 'rick' }));
    expect(await refs.tiles(id!)).toEqual(tiles);
    expect(await lib.vectors('container-xray', 'embed-t', '1.0.0')).toEqual([{ referenceId: id, hsCode: '4011100000', embedding: [0.8, 0.6], tiles: [[1, 0], [0.6, 0.8], [0, 1]] }]);

    // tyres and steel in one box: which tile holds which cannot be told, so only the whole vector is kept
    const mixed = await verified('tile-mixed', ['4011100000', '7308900000']);
    const ids = [];
    for (const c of mixed.candidates) ids.push(await t.db.transaction((tx) => promoteCandidate(tx, c, mixed.scan, { status: 'approved', actor: 'sue' })));
    for (const i of ids) expect(await refs.tiles(i!)).toBeNull();
    const served = await lib.vectors('container-xray', 'embed-t', '1.0.0');
    expect(served.map((v) => [v.hsCode, v.tiles?.length ?? 0])).toEqual([['4011100000', 3], ['4011100000', 0], ['7308900000', 0]]);
  });
});
