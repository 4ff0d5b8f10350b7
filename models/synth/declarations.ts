// What a declaration of synthetic cargo looks like: an HS code per visual category and parcel item (the
// inverse of the domain's HS → category map), faithful declarations, and seeded misdeclarations for
// planting problems in evaluation streams.
import { CARGO_CATEGORIES } from '../../domain/categories.js';
import { Rng } from './prng.js';

export const HS_FOR_CATEGORY: Record<string, { hsCode: string; description: string }> = {
  'bulk-grain': { hsCode: '1201900000', description: 'soya beans' },
  sugar: { hsCode: '1701999000', description: 'cane sugar' },
  'frozen-cartons': { hsCode: '0202300000', description: 'frozen boneless beef' },
  'fruit-veg': { hsCode: '0803901000', description: 'fresh bananas' },
  liquids: { hsCode: '2204210000', description: 'wine in bottles' },
  tyres: { hsCode: '4011100000', description: 'new pneumatic car tyres' },
  'paper-rolls': { hsCode: '4802550000', description: 'paper in rolls' },
  'textiles-cartons': { hsCode: '6109100000', description: 'cotton T-shirts in cartons' },
  'wood-furniture': { hsCode: '9403600000', description: 'wooden furniture' },
  'stone-ceramics-glass': { hsCode: '6907210000', description: 'ceramic tiles' },
  'iron-steel': { hsCode: '7308900000', description: 'steel structures' },
  'machinery-electronics': { hsCode: '8471300000', description: 'laptop computers' },
  vehicles: { hsCode: '8703230000', description: 'passenger cars' },
};

export const HS_FOR_PARCEL_ITEM: Record<string, { hsCode: string; description: string }> = {
  clothes: { hsCode: '6109100000', description: 'T-shirts' },
  book: { hsCode: '4901990000', description: 'books' },
  shoes: { hsCode: '6403990000', description: 'leather shoes' },
  'cosmetics-bottle': { hsCode: '3304990000', description: 'cosmetics' },
  phone: { hsCode: '8517130000', description: 'smartphones' },
  laptop: { hsCode: '8471300000', description: 'laptop' },
  toy: { hsCode: '9503000000', description: 'toys' },
};

export interface DeclarationLineInput {
  hsCode: string;
  description: string;
  quantity: number;
  unit: string;
  grossKg: number;
}

/** Lines declaring exactly the categories seen (an empty list declares an empty container). */
export function containerLines(categories: readonly string[]): DeclarationLineInput[] {
  const loaded = categories.filter((c) => HS_FOR_CATEGORY[c]);
  return loaded.map((c) => ({ ...HS_FOR_CATEGORY[c]!, quantity: 100, unit: 'pcs', grossKg: Math.round(12000 / loaded.length) }));
}

/** Lines declaring the everyday items of a parcel with their counts (prohibited items are never declared). */
export function parcelLines(counts: Record<string, number>): DeclarationLineInput[] {
  return Object.entries(counts)
    .filter(([item, n]) => n > 0 && HS_FOR_PARCEL_ITEM[item])
    .map(([item, n]) => ({ ...HS_FOR_PARCEL_ITEM[item]!, quantity: n, unit: 'pcs', grossKg: Math.round(5 * n) / 10 }));
}

export type Misdeclaration = 'category-swapped' | 'lookalike-swapped' | 'goods-undeclared' | 'declared-empty' | 'count-understated';

/**
 * What a load could be declared as and still look much the same in this generator's drawings: the same matter
 * packed the same way (sacks of grain and jumbo bags of sugar; cartons of frozen food, of garments, of furniture;
 * pallets of fruit and of bottled drinks; tyres and paper rolls, both rings of dense matter on end; steel,
 * machinery, vehicles and stone, the metal and mineral loads). The hard case for the declaration check, and the
 * usual one in practice (the duty rate differs, the image does not much): a random swap mostly names goods that
 * look nothing like the load.
 */
export const LOOKALIKE: Readonly<Record<string, readonly string[]>> = {
  'bulk-grain': ['sugar'],
  sugar: ['bulk-grain'],
  'frozen-cartons': ['textiles-cartons', 'fruit-veg'],
  'fruit-veg': ['frozen-cartons', 'liquids'],
  liquids: ['fruit-veg'],
  'textiles-cartons': ['frozen-cartons', 'wood-furniture'],
  'wood-furniture': ['textiles-cartons'],
  tyres: ['paper-rolls'],
  'paper-rolls': ['tyres'],
  'stone-ceramics-glass': ['iron-steel'],
  'iron-steel': ['machinery-electronics', 'stone-ceramics-glass'],
  'machinery-electronics': ['iron-steel', 'vehicles'],
  vehicles: ['machinery-electronics'],
};

/**
 * A seeded misdeclaration of a container: swap a category for another (half of the swaps for a lookalike, when
 * one is not already in the load), leave one out, or declare a loaded box empty. Returns null when the cargo
 * admits none (an empty box cannot hide undeclared goods).
 */
export function misdeclareContainer(seed: number, index: number, categories: readonly string[]): { lines: DeclarationLineInput[]; kind: Misdeclaration } | null {
  const loaded = categories.filter((c) => HS_FOR_CATEGORY[c]);
  if (loaded.length === 0) return null;
  const r = Rng.forSample(seed ^ 0x5eed, index);
  const roll = r.next();
  if (roll < 0.5) {
    const victim = loaded[Math.floor(r.next() * loaded.length)]!;
    const near = (LOOKALIKE[victim] ?? []).filter((c) => !loaded.includes(c));
    const lookalike = r.next() < 0.5 && near.length > 0;
    const others = lookalike ? near : CARGO_CATEGORIES.filter((c) => HS_FOR_CATEGORY[c] && !loaded.includes(c));
    const swapped = others[Math.floor(r.next() * others.length)]!;
    return { lines: containerLines(loaded.map((c) => (c === victim ? swapped : c))), kind: lookalike ? 'lookalike-swapped' : 'category-swapped' };
  }
  if (roll < 0.85 && loaded.length > 1) {
    const drop = Math.floor(r.next() * loaded.length);
    return { lines: containerLines(loaded.filter((_, i) => i !== drop)), kind: 'goods-undeclared' };
  }
  return { lines: [], kind: 'declared-empty' };
}

/** A parcel whose declared quantity of one item is understated (the classic undervaluation trick). */
export function misdeclareParcel(seed: number, index: number, counts: Record<string, number>): { lines: DeclarationLineInput[]; kind: Misdeclaration } | null {
  const lines = parcelLines(counts);
  if (lines.length === 0) return null;
  const r = Rng.forSample(seed ^ 0x5eed, index);
  const i = Math.floor(r.next() * lines.length);
  const line = lines[i]!;
  const understated = Math.max(0, line.quantity - 1 - Math.floor(r.next() * line.quantity));
  const out = lines.filter((_, j) => j !== i);
  if (understated > 0) out.push({ ...line, quantity: understated });
  return out.length ? { lines: out, kind: 'count-understated' } : null;
}
