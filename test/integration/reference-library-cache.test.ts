// The worker keeps the reference vectors in memory: it must read them again after an addition or a removal
// (by another process, through the database) and not on every scan otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedReferenceLibrary } from '../../pipeline/reference-library.js';
import { referencesRepo } from '../../storage/repos/references.js';
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
});
