// The misdeclarations the assessment streams plant (models/synth/declarations.ts): seeded, of the kinds the
// benchmark reports, and the lookalike swaps name goods the generator draws alike, never what is already loaded.
import { describe, expect, it } from 'vitest';
import { CARGO_CATEGORIES } from '../../domain/categories.js';
import { HS_FOR_CATEGORY, LOOKALIKE, misdeclareContainer } from '../../models/synth/declarations.js';

const CODE_TO_CATEGORY = new Map(Object.entries(HS_FOR_CATEGORY).map(([c, v]) => [v.hsCode, c]));
const declared = (lines: ReadonlyArray<{ hsCode: string }>) => lines.map((l) => CODE_TO_CATEGORY.get(l.hsCode));

describe('container misdeclarations', () => {
  it('every lookalike is a declarable category, and every declarable category has one', () => {
    const declarable = CARGO_CATEGORIES.filter((c) => HS_FOR_CATEGORY[c]);
    expect(Object.keys(LOOKALIKE).sort()).toEqual([...declarable].sort());
    for (const [k, alike] of Object.entries(LOOKALIKE)) for (const a of alike) expect(declarable, `${k} → ${a}`).toContain(a);
  });

  it('swaps a loaded kind for a lookalike on about a quarter of the draws, otherwise as before', () => {
    const load = ['tyres', 'iron-steel'];
    const kinds: Record<string, number> = {};
    for (let i = 0; i < 2000; i++) {
      const m = misdeclareContainer(70_001, i, load)!;
      kinds[m.kind] = (kinds[m.kind] ?? 0) + 1;
      const cats = declared(m.lines);
      if (m.kind === 'lookalike-swapped') {
        // one loaded kind replaced by one of its lookalikes that is not loaded already
        const gone = load.filter((c) => !cats.includes(c));
        const added = cats.filter((c) => !load.includes(c!));
        expect(gone).toHaveLength(1);
        expect(added).toHaveLength(1);
        expect(LOOKALIKE[gone[0]!]).toContain(added[0]);
      }
      if (m.kind === 'goods-undeclared') expect(cats).toHaveLength(1);
      if (m.kind === 'declared-empty') expect(cats).toHaveLength(0);
    }
    expect(Object.keys(kinds).sort()).toEqual(['category-swapped', 'declared-empty', 'goods-undeclared', 'lookalike-swapped']);
    expect(kinds['lookalike-swapped']! / 2000).toBeGreaterThan(0.2);
    expect(kinds['lookalike-swapped']! / 2000).toBeLessThan(0.3);
  });

  it('falls back to any other kind when every lookalike is already in the load; the same (seed, index) gives the same lie', () => {
    // tyres and paper rolls are each other's only lookalike: with both loaded no lookalike swap is possible
    const kinds = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const m = misdeclareContainer(5, i, ['tyres', 'paper-rolls'])!;
      kinds.add(m.kind);
      expect(misdeclareContainer(5, i, ['tyres', 'paper-rolls'])).toEqual(m);
    }
    expect([...kinds].sort()).toEqual(['category-swapped', 'declared-empty', 'goods-undeclared']);
    expect(misdeclareContainer(5, 0, ['empty'])).toBeNull();
  });
});
