import { describe, expect, it } from 'vitest';
import type { LabelledScan } from '../../domain/policy/calibrate.js';
import type { StreamScan } from '../../scripts/calibrate.js';
import { missedProblems } from '../../scripts/missed.js';
import { policyRows } from '../../scripts/policy-on-stream.js';
import { notCleared } from '../../scripts/why-not-cleared.js';
import { classifier, containerDeclaration, containerScan, detector, testPolicy } from './domain-fixtures.js';

// Labelled stream scans as loadStream returns them (the generator's meta beside each), with model outputs made by hand.
const build = { lengthFt: 20 as const, reefer: true, chassis: false };
const knife = { label: 'knife', box: [0, 10, 50, 60] as [number, number, number, number], visibility: { itemGcm2: 17.47, clutterGcm2: 46.51 } };
const scan = (scanId: string, score: number, truth: LabelledScan['truth'], meta: Partial<StreamScan['meta']> = {}, dishonest = false): StreamScan => ({
  input: containerScan({
    scanId,
    modelOutputs: [classifier({ empty: 0.02, tyres: 0.95 }), detector([['knife', score]])],
    ...(dishonest && { declaration: containerDeclaration({ enterprise: { id: 'E-9', creditLevel: 'dishonest' } }) }),
  }),
  truth: { ...truth, dishonest },
  meta: { id: scanId, kind: 'container', boxes: [], categories: ['paper-rolls'], ...meta },
});

describe('scripts/missed: the problem scans a policy clears', () => {
  const policy = testPolicy();
  const stream: StreamScan[] = [
    // a knife planted where the detector saw one at 0.2: under the policy's 0.4, so the scan clears
    scan('faint', 0.2, { prohibited: true, misdeclared: false }, { boxes: [knife], categories: ['fruit-veg'], container: build }),
    // the same knife seen at 0.9: held, so not listed
    scan('seen', 0.9, { prohibited: true, misdeclared: false }, { boxes: [knife], categories: ['fruit-veg'], container: build }),
    // a lie the checks did not catch, and a clean scan: only the lie is listed
    scan('lie', 0, { prohibited: false, misdeclared: true, misdeclaration: 'lookalike-swapped' }),
    scan('clean', 0, { prohibited: false, misdeclared: false }),
  ];

  it('lists each cleared problem scan with what was planted, how visible it was and the model boxes over it', () => {
    const missed = missedProblems(stream, policy);
    expect(missed.map((m) => [m.scanId, m.problem])).toEqual([['faint', 'prohibited'], ['lie', 'lookalike-swapped']]);
    expect(missed[0]).toMatchObject({
      drawn: ['fruit-veg'], build: { lengthFt: 20, reefer: true }, declared: ['4011100000'],
      planted: [{ label: 'knife', visibility: { itemGcm2: 17.47, clutterGcm2: 46.51 }, modelBoxes: [{ model: 'threat-det', label: 'knife', score: 0.2 }] }],
      classifier: { tyres: 0.95 },
    });
    expect(missed[1]).toMatchObject({ drawn: ['paper-rolls'], planted: [] });
  });

  it('lists nothing when the policy stops every problem scan', () => {
    const strict = testPolicy((p) => (p.security.threatThresholds.knife = 0.1));
    expect(missedProblems(stream.filter((s) => s.truth.prohibited), strict)).toEqual([]);
  });
});

describe('scripts/why-not-cleared: the clean scans a policy does not clear', () => {
  const policy = testPolicy();
  const clean = { prohibited: false, misdeclared: false };
  const stream: StreamScan[] = [
    scan('alarm', 0.9, clean, { container: build }),      // a knife box on a clean load: held back by the box alone
    scan('dishonest', 0, clean, {}, true),                 // nothing seen, but the shipper is dishonest
    scan('cleared', 0.2, clean),                           // a box under the threshold: cleared, not listed
    scan('planted', 0.9, { prohibited: true, misdeclared: false }, { boxes: [knife] }), // not clean: not listed
  ];

  it('lists each with every non-clearing reason, what was drawn and declared, and the classifier', () => {
    const listed = notCleared(stream, policy);
    expect(listed.map((n) => [n.scanId, n.reasons.map((r) => r.code)])).toEqual([['alarm', ['THREAT_DETECTED']], ['dishonest', ['DISHONEST_SHIPPER']]]);
    expect(listed[0]).toMatchObject({ drawn: ['paper-rolls'], build: { lengthFt: 20, reefer: true }, dishonest: false, declared: ['4011100000'], classifier: { tyres: 0.95 } });
    expect(listed[0]!.reasons[0]!.detail).toMatch(/knife/);
    expect(listed[1]).toMatchObject({ dishonest: true });
    expect(listed[1]).not.toHaveProperty('build');
  });

  it('with codes, lists only the scans that carry one of them', () => {
    expect(notCleared(stream, policy, new Set(['DISHONEST_SHIPPER'])).map((n) => n.scanId)).toEqual(['dishonest']);
    expect(notCleared(stream, policy, new Set(['WEIGHT_MISMATCH']))).toEqual([]);
  });
});

describe('scripts/policy-on-stream: one policy\'s figures on a stream, at several threat scales', () => {
  const policy = testPolicy(); // knife 0.4 for a detector the policy does not name
  const clean = { prohibited: false, misdeclared: false };
  const stream: StreamScan[] = [
    scan('faint-box', 0.3, clean),   // a clean load with a knife box under 0.4: cleared at scale 1, not at 0.5
    scan('nothing', 0, clean),
    scan('dishonest', 0, clean, {}, true),
    scan('knife', 0.9, { prohibited: true, misdeclared: false }, { boxes: [knife] }),
  ];

  it('reports auto-clear, recall and why clean scans were not cleared, the latter at scale 1 only', () => {
    const [one, half] = policyRows(stream, policy, [1, 0.5], 'raw');
    expect(one).toMatchObject({ read: 'raw', policy: policy.version, threatScale: 1, clean: 3, prohibited: 1, autoClearOfCleanPct: 66.67, prohibitedRecallPct: 100 });
    expect(Object.keys(one!.cleanNotClearedBy!)).toEqual(['DISHONEST_SHIPPER']);
    expect(half).toMatchObject({ threatScale: 0.5, autoClearOfCleanPct: 33.33, prohibitedRecallPct: 100 });
    expect(half).not.toHaveProperty('cleanNotClearedBy');
  });
});
