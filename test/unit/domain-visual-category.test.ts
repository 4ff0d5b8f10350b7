import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  VISUAL_CATEGORIES,
  chapterVisualEntry,
  checkVisualMapEntry,
  isRecognisable,
  visualCategoryOf,
} from '../../domain/hs/visual-category.js';
import { hsCodes } from '../../domain/hs/hs.js';
import { CARGO_CATEGORIES } from '../../domain/categories.js';
import mapData from '../../domain/hs/visual-categories.json' with { type: 'json' };

const chapters = Array.from({ length: 97 }, (_, i) => String(i + 1).padStart(2, '0'));

describe('HS → visual-category map', () => {
  it('maps every chapter 01–97, with 77 marked reserved', () => {
    for (const ch of chapters) {
      const entry = chapterVisualEntry(ch);
      expect(entry, `chapter ${ch}`).toBeDefined();
      if (ch === '77') expect(entry).toMatchObject({ reserved: true });
      else expect(entry).not.toHaveProperty('reserved');
    }
  });

  it('uses only known categories and parcel items, in chapters and overrides', () => {
    const all = { ...mapData.chapters, ...mapData.overrides };
    for (const [key, entry] of Object.entries(all)) expect(checkVisualMapEntry(key, entry)).toEqual([]);
    for (const entry of Object.values(all)) {
      if ('category' in entry) expect(VISUAL_CATEGORIES).toContain(entry.category);
    }
  });

  it('overrides only codes that exist in HS 2022', () => {
    const headings = new Set([...hsCodes(4), ...hsCodes(6)]);
    for (const key of Object.keys(mapData.overrides)) expect(headings.has(key), key).toBe(true);
  });

  it('flags bad entries', () => {
    expect(checkVisualMapEntry('01', { category: 'spaceships', lowRisk: false })).toHaveLength(1);
    expect(checkVisualMapEntry('01', { category: 'tyres' })).toHaveLength(1);
    expect(checkVisualMapEntry('01', { category: 'tyres', lowRisk: true, parcelItem: 'x' })).toHaveLength(1);
    expect(checkVisualMapEntry('77', { reserved: true })).toHaveLength(1);
  });

  it('every HS 2022 subheading gets a category', () => {
    for (const sub of hsCodes(6)) expect(visualCategoryOf(sub), sub).toBeDefined();
  });

  it.each([
    ['4011100000', 'tyres', true, '4011'],
    ['4016930000', 'general-cargo', false, '40'],
    ['0303890000', 'frozen-cartons', true, '03'],
    ['0301110000', 'general-cargo', false, '0301'],
    ['8471300000', 'machinery-electronics', false, '8471'],
    ['8523491000', 'not-visible', false, '8523'],
    ['2716000000', 'not-visible', false, '2716'],
    ['6109100000', 'textiles-cartons', false, '61'],
    ['7208100000', 'iron-steel', true, '72'],
    ['2515110000', 'stone-ceramics-glass', true, '2515'],
  ])('%s → %s (lowRisk %s, on %s)', (hsCode, category, lowRisk, matchedOn) => {
    expect(visualCategoryOf(hsCode)).toMatchObject({ category, lowRisk, matchedOn });
  });

  it('has no category for the reserved chapter', () => {
    expect(visualCategoryOf('7700000000')).toBeUndefined();
  });

  it('points parcel goods at the items a detector counts', () => {
    expect(visualCategoryOf('6109100000')?.parcelItem).toBe('clothes');
    expect(visualCategoryOf('8517130000')?.parcelItem).toBe('phone');
    expect(visualCategoryOf('4901990000')?.parcelItem).toBe('book');
  });

  it('recognisable means the classifier has the class', () => {
    fc.assert(
      fc.property(fc.constantFrom(...VISUAL_CATEGORIES), (c) => isRecognisable(c) === (CARGO_CATEGORIES as readonly string[]).includes(c)),
    );
  });
});
