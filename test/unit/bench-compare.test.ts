// The CPU comparison's summary: medians per side (robust to the one slow run a noisy machine gives) and this
// checkout's median over the reference's.
import { describe, expect, it } from 'vitest';
import { compareRuns, type CpuRun } from '../../bench/compare.js';

const r = (scansPerSecond: number, worker: number, postgres: number): CpuRun => ({ scansPerSecond, coreMsPerScan: { worker, postgres } });

describe('cpu compare summary', () => {
  it('takes medians per side and reports this side over the reference', () => {
    // one outlier on each side moves neither median
    const current = [r(30, 40, 3), r(10, 90, 9), r(32, 38, 3)];
    const reference = [r(25, 50, 4), r(27, 48, 4), r(60, 20, 1)];
    const c = compareRuns(current, reference);
    expect(c.median.current).toEqual({ scansPerSecond: 30, coreMsPerScan: { worker: 40, postgres: 3 } });
    expect(c.median.reference).toEqual({ scansPerSecond: 27, coreMsPerScan: { worker: 48, postgres: 4 } });
    expect(c.ratio.scansPerSecond).toBeCloseTo(30 / 27, 3);
    expect(c.ratio.coreMsPerScan).toEqual({ worker: 0.833, postgres: 0.75 });
  });

  it('averages the middle two of an even count', () => {
    const c = compareRuns([r(30, 40, 2), r(34, 44, 4)], [r(30, 40, 2), r(30, 40, 2)]);
    expect(c.median.current).toEqual({ scansPerSecond: 32, coreMsPerScan: { worker: 42, postgres: 3 } });
    expect(c.ratio.coreMsPerScan).toEqual({ worker: 1.05, postgres: 1.5 });
  });
});
