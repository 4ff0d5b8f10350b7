import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabelledScan } from '../../domain/policy/calibrate.js';
import { missedProblems } from '../../scripts/missed.js';
import { classifier, containerScan, detector, testPolicy } from './domain-fixtures.js';

// A labelled stream as the generator writes it (meta/<id>.json with the planted boxes), with model outputs made by hand.
describe('scripts/missed: the problem scans a policy clears', () => {
  let dir: string;
  const policy = testPolicy();
  const knife = { label: 'knife', box: [0, 10, 50, 60], visibility: { itemGcm2: 17.47, clutterGcm2: 46.51 } };
  const scan = (scanId: string, score: number, truth: LabelledScan['truth']): LabelledScan => ({
    input: containerScan({ scanId, modelOutputs: [classifier({ empty: 0.02, tyres: 0.95 }), detector([['knife', score]])] }),
    truth,
  });
  const stream: LabelledScan[] = [
    // a knife planted where the detector saw one at 0.2: under the policy's 0.4, so the scan clears
    scan('faint', 0.2, { prohibited: true, misdeclared: false }),
    // the same knife seen at 0.9: held, so not listed
    scan('seen', 0.9, { prohibited: true, misdeclared: false }),
    // a lie the checks did not catch, and a clean scan: only the lie is listed
    scan('lie', 0, { prohibited: false, misdeclared: true, misdeclaration: 'lookalike-swapped' }),
    scan('clean', 0, { prohibited: false, misdeclared: false }),
  ];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-missed-'));
    await mkdir(join(dir, 'meta'));
    const build = { lengthFt: 20, reefer: true, chassis: false };
    for (const id of ['faint', 'seen']) await writeFile(join(dir, 'meta', `${id}.json`), JSON.stringify({ id, kind: 'container', boxes: [knife], categories: ['fruit-veg'], container: build }));
    for (const id of ['lie', 'clean']) await writeFile(join(dir, 'meta', `${id}.json`), JSON.stringify({ id, kind: 'container', boxes: [], categories: ['paper-rolls'] }));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('lists each cleared problem scan with what was planted, how visible it was and the model boxes over it', async () => {
    const missed = await missedProblems(dir, stream, policy);
    expect(missed.map((m) => [m.scanId, m.problem])).toEqual([['faint', 'prohibited'], ['lie', 'lookalike-swapped']]);
    expect(missed[0]).toMatchObject({
      drawn: ['fruit-veg'], build: { lengthFt: 20, reefer: true }, declared: ['4011100000'],
      planted: [{ label: 'knife', visibility: { itemGcm2: 17.47, clutterGcm2: 46.51 }, modelBoxes: [{ model: 'threat-det', label: 'knife', score: 0.2 }] }],
      classifier: { tyres: 0.95 },
    });
    expect(missed[1]).toMatchObject({ drawn: ['paper-rolls'], planted: [] });
  });

  it('lists nothing when the policy stops every problem scan', async () => {
    const strict = testPolicy((p) => (p.security.threatThresholds.knife = 0.1));
    const missed = await missedProblems(dir, stream.filter((s) => s.truth.prohibited), strict);
    expect(missed).toEqual([]);
  });
});
