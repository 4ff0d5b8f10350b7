// Reference-library matching: exact cosine kNN (models/knn) judged by the domain (LOOKS_LIKE_OTHER_CODE,
// matches declared, no references yet), a long container's tiles (PART_LOOKS_LIKE_OTHER_CODE), and the
// leave-one-out evaluation table on plain vectors.
import { describe, expect, it } from 'vitest';
import { assess } from '../../domain/assessment/assess.js';
import { judgeReferenceMatch, REFERENCE_THRESHOLDS, type ReferenceMatch, type TileMatch } from '../../domain/assessment/reference-match.js';
import { cosine, hsMatchLevel, knnVote, matchReferences, scanEmbedding, type ReferenceVector } from '../../models/knn/index.js';
import { knnTable } from '../../models/eval/knn.js';
import { containerDeclaration, containerScan, line, testPolicy } from './domain-fixtures.js';
import { vec } from '../helpers/vectors.js';

const policy = testPolicy();
const model = { name: 'container-embed', version: '1.0.0' };
const TYRES = '4011100000';
const STEEL = '7308900000';

const library = (...refs: Array<[string, number, number?]>): ReferenceVector[] =>
  refs.map(([hsCode, axis, jitter], i) => ({ referenceId: String(i + 1), hsCode, embedding: vec(axis, jitter ?? 0.1 * i) }));

describe('kNN search', () => {
  it('matches HS codes at 10, 6, 4 and 2 digits', () => {
    expect(hsMatchLevel('4011100000', '4011100000')).toBe(10);
    expect(hsMatchLevel('4011100000', '4011109000')).toBe(6);
    expect(hsMatchLevel('4011100000', '4011200000')).toBe(4);
    expect(hsMatchLevel('4011100000', '4013100000')).toBe(2);
    expect(hsMatchLevel('4011100000', '7308900000')).toBe(0);
  });

  it('is exact cosine, stable on ties, and votes by similarity', () => {
    expect(cosine([1, 0], [2, 0])).toBeCloseTo(1);
    expect(cosine([0, 0], [1, 0])).toBe(0);
    const lib = library([TYRES, 0], [TYRES, 0], [STEEL, 3], [STEEL, 3], [STEEL, 3]);
    expect(knnVote(vec(0), lib, 5)?.hsCode).toBe(TYRES); // two close tyres beat three far steel refs
    expect(knnVote(vec(3), lib, 5)?.hsCode).toBe(STEEL);
    expect(knnVote(vec(0), [], 5)).toBeNull();
  });

  it('falls back to the declared code\'s heading when the exact code has no references', () => {
    const m = matchReferences(vec(0), library(['4011200000', 0], [STEEL, 3]), [TYRES], model);
    expect(m.declared[0]).toMatchObject({ hsCode: TYRES, matchedAt: 4, references: 1 });
    expect(m.bestOther?.hsCode).toBe(STEEL);
  });

  it('reads the embedding an embed model stored in the scan inference', () => {
    expect(scanEmbedding({ outputs: [{ model: 'cls', version: '1', scores: {} }, { model: 'container-embed', version: '1.0.0', embedding: [0.6, 0.8] }] })).toEqual({ model: 'container-embed', version: '1.0.0', embedding: [0.6, 0.8] });
    expect(scanEmbedding({ outputs: [] })).toBeNull();
    expect(scanEmbedding(null)).toBeNull();
  });
});

describe('reference evidence in the assessment', () => {
  it('no references: a clean fallback to the classifier (same decision and reasons, status no-references)', () => {
    const without = assess(containerScan(), policy);
    const empty = assess(containerScan({ referenceMatch: matchReferences(vec(0), [], [TYRES], model) }), policy);
    const otherCodesOnly = assess(containerScan({ referenceMatch: matchReferences(vec(0), library([STEEL, 0]), [TYRES], model) }), policy);
    for (const a of [empty, otherCodesOnly]) {
      expect(a.decision).toBe(without.decision);
      expect(a.reasons).toEqual(without.reasons);
      expect(a.declaredVsSeen.references?.status).toBe('no-references');
    }
  });

  it('a scan that looks like the references of its declared code matches declared', () => {
    const lib = library([TYRES, 0, 0.05], [TYRES, 0, 0.1], [STEEL, 3]);
    const a = assess(containerScan({ referenceMatch: matchReferences(vec(0), lib, [TYRES], model) }), policy);
    expect(a.decision).toBe('clear');
    expect(a.declaredVsSeen.references).toMatchObject({ status: 'matches-declared', libraryCount: 3 });
    expect(a.declaredVsSeen.references?.declared[0]?.nearest.map((h) => h.referenceId)).toEqual(['1', '2']);
  });

  it('a swapped code is flagged LOOKS_LIKE_OTHER_CODE with both similarities as evidence', () => {
    const lib = library([TYRES, 0], [TYRES, 0], [STEEL, 3], [STEEL, 3]);
    const a = assess(containerScan({ referenceMatch: matchReferences(vec(3), lib, [TYRES], model) }), policy);
    expect(a.decision).toBe('review');
    const r = a.reasons.find((x) => x.code === 'LOOKS_LIKE_OTHER_CODE');
    expect(r).toMatchObject({ layer: 'declaration', decision: 'review', evidence: { model: 'container-embed', version: '1.0.0' } });
    expect(r?.detail).toContain(STEEL);
    expect(Object.keys(r?.evidence?.scores ?? {}).sort()).toEqual([TYRES, STEEL].sort());
    expect(a.declaredVsSeen.references?.bestOther?.hsCode).toBe(STEEL);
  });

  it('a mixed load matching one of its declared codes is not flagged', () => {
    const lib = library([TYRES, 0], [STEEL, 3], ['8471300000', 5]);
    const decl = containerDeclaration({ lines: [line(TYRES), line(STEEL)] });
    const m = matchReferences(vec(3), lib, [TYRES, STEEL], model);
    expect(judgeReferenceMatch(m).status).toBe('matches-declared');
    expect(assess(containerScan({ declaration: decl, referenceMatch: m }), policy).reasons.map((r) => r.code)).not.toContain('LOOKS_LIKE_OTHER_CODE');
  });

  it('adding a verified reference changes the next match', () => {
    const lib = library([STEEL, 3]);
    const before = judgeReferenceMatch(matchReferences(vec(0), lib, [TYRES], model));
    const after = judgeReferenceMatch(matchReferences(vec(0), [...lib, { referenceId: '9', hsCode: TYRES, embedding: vec(0, 0.05) }], [TYRES], model));
    expect(before.status).toBe('no-references');
    expect(after.status).toBe('matches-declared');
  });
});

describe('leave-one-out evaluation table', () => {
  it('finds separable codes and flags their swaps; a code with one image is never a query', () => {
    const items = [0, 1, 2].flatMap((axis) => [0, 0.05, 0.1, 0.15].map((j) => ({ hsCode: [TYRES, STEEL, '8471300000'][axis]!, embedding: vec(axis * 2, j) })));
    items.push({ hsCode: '9403600000', embedding: vec(7) });
    const rows = knnTable(items, { refsPerCode: [1, 'all'], trials: 2 });
    expect(rows.map((r) => r.refsPerCode)).toEqual([1, 'all']);
    for (const r of rows) {
      expect(r.queries).toBe(r.refsPerCode === 'all' ? 12 : 24);
      expect(r.nearestTop1).toBe(1);
      expect(r.swappedFlagged).toBe(1);
      expect(r.honestFlagged).toBe(0);
    }
  });
});

describe('tiles of a long container', () => {
  // a 40 ft scan 1000 px long: four tiles; the front half looks like tyres, the back half like steel,
  // and the whole-scan vector (the average) still leans to tyres
  const tiles = [
    { x: 0, width: 440, embedding: vec(0, 0.05) },
    { x: 220, width: 440, embedding: vec(0, 0.1) },
    { x: 440, width: 440, embedding: vec(3, 0.05) },
    { x: 560, width: 440, embedding: vec(3, 0.1) },
  ];
  const whole = vec(0, 0.9);
  const lib = library([TYRES, 0], [TYRES, 0], [STEEL, 3], [STEEL, 3]);

  it('matches each tile against the library and reports its best code and the declared similarity', () => {
    const m = matchReferences(whole, lib, [TYRES], model, { tiles });
    expect(m.tiles?.map((t) => [t.x, t.width, t.bestCode])).toEqual([[0, 440, TYRES], [220, 440, TYRES], [440, 440, STEEL], [560, 440, STEEL]]);
    expect(m.tiles![2]!.similarity).toBeGreaterThan(0.9);
    expect(m.tiles![2]!.declaredSimilarity).toBeLessThan(0.2);
    expect(matchReferences(whole, [], [TYRES], model, { tiles }).tiles).toBeUndefined(); // empty library
    expect(matchReferences(whole, lib, [TYRES], model).tiles).toBeUndefined(); // a short scan
  });

  it('the half that looks like an undeclared code gives PART_LOOKS_LIKE_OTHER_CODE (review, with where); declared, it does not', () => {
    const a = assess(containerScan({ referenceMatch: matchReferences(whole, lib, [TYRES], model, { tiles }) }), policy);
    expect(a.reasons.map((r) => r.code)).toEqual(['PART_LOOKS_LIKE_OTHER_CODE']);
    expect(a.decision).toBe('review');
    const r = a.reasons[0]!;
    expect(r).toMatchObject({ layer: 'declaration', decision: 'review', evidence: { model: 'container-embed', version: '1.0.0', xRange: [440, 1000] } });
    expect(r.detail).toContain(`HS ${STEEL}`);
    expect(r.detail).toMatch(/metres 5–12 of 12/);
    expect(a.declaredVsSeen.references?.tiles).toHaveLength(4);

    const both = containerDeclaration({ lines: [line(TYRES), line(STEEL)] });
    const b = assess(containerScan({ declaration: both, referenceMatch: matchReferences(whole, lib, [TYRES, STEEL], model, { tiles }) }), policy);
    expect(b.reasons.map((x) => x.code)).not.toContain('PART_LOOKS_LIKE_OTHER_CODE');
    expect(b.decision).toBe(assess(containerScan({ declaration: both }), policy).decision); // what the classifier alone says
  });

  it('a scan that looks like the other code as a whole gets that reason once, not again for its parts', () => {
    // every tile and the whole scan look like steel; tyres were declared
    const steelTiles = tiles.map((t) => ({ ...t, embedding: vec(3, 0.05) }));
    const m = matchReferences(vec(3, 0.1), lib, [TYRES], model, { tiles: steelTiles });
    expect(judgeReferenceMatch(m).parts.map((p) => p.hsCode)).toEqual([STEEL]); // the finding keeps the part
    const a = assess(containerScan({ referenceMatch: m }), policy);
    expect(a.reasons.map((r) => r.code)).toEqual(['LOOKS_LIKE_OTHER_CODE']);
    expect(a.decision).toBe('review');
  });

  it('matches tiles against the references\' own tile vectors too', () => {
    // the only steel reference is a 40 ft scan whose whole vector is far off but one tile is steel
    const refs = [...library([TYRES, 0], [TYRES, 0]), { referenceId: '9', hsCode: STEEL, embedding: vec(6), tiles: [vec(5), vec(3, 0.05)] }];
    const m = matchReferences(whole, refs, [TYRES], model, { tiles });
    expect(m.tiles![3]!.bestCode).toBe(STEEL);
    expect(judgeReferenceMatch(m).parts.map((p) => p.hsCode)).toEqual([STEEL]);
  });

  it('a weak, close or cold-start tile raises nothing', () => {
    const t = { ...REFERENCE_THRESHOLDS };
    const judge = (tm: TileMatch[], declared: ReferenceMatch['declared'] = [{ hsCode: TYRES, matchedAt: 10, references: 2, similarity: 0.9, nearest: [] }]) =>
      judgeReferenceMatch({ model: 'm', version: '1', libraryCount: 4, declared, bestOther: null, declaredVoteShare: 1, k: 5, tiles: tm }, t).parts;
    const tile = (similarity: number, declaredSimilarity: number | null, bestCode = STEEL): TileMatch => ({ x: 0, width: 10, bestCode, similarity, declaredSimilarity });
    // tiles have their own, stricter thresholds (tileSimilarity 0.8, tileMargin 0.3; the whole scan keeps 0.7 / 0.1)
    expect(judge([tile(0.79, 0.2)])).toEqual([]); // not close enough to the other code
    expect(judge([tile(0.95, 0.66)])).toEqual([]); // not clearly closer than the declared code
    expect(judge([tile(0.95, 0.2, '4011109000')])).toEqual([]); // a sibling subheading backs the declaration
    expect(judge([tile(0.95, null)], [{ hsCode: TYRES, matchedAt: null, references: 0, similarity: null, nearest: [] }])).toEqual([]); // no declared references
    expect(judge([tile(0.95, 0.65)])).toHaveLength(1);
    expect(judge([tile(0.8, 0.5)])).toHaveLength(1);
    expect(judge([tile(0.85, 0.75)])).toEqual([]); // a whole scan this far apart would be flagged; a tile is not
    t.tileSimilarity = 0.7;
    t.tileMargin = 0.1;
    expect(judge([tile(0.85, 0.75)])).toHaveLength(1);
  });
});
