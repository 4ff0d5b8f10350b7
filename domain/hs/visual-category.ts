// The HS → visual-category map: which category the classifier should see for declared goods, whether they
// are single-commodity low-risk goods, and which parcel item a detector counts for them.
import mapData from './visual-categories.json' with { type: 'json' };
import { CARGO_CATEGORIES, PARCEL_ITEMS, type CargoCategory, type ParcelItem } from '../categories.js';
import { normalizeHsCode } from './hs.js';

/**
 * Categories the map may point at beyond what the classifier outputs:
 * - `general-cargo`: packaged goods with no class of their own (crates, cartons of sundries); the image
 *   cannot confirm them, so they are never "declared but not seen" and never match a seen category;
 * - `not-visible`: nothing an X-ray can confirm (electrical energy, recorded content, unspecified goods).
 */
export const GENERIC_CATEGORIES = ['general-cargo', 'not-visible'] as const;
export type GenericCategory = (typeof GENERIC_CATEGORIES)[number];

/** A category a declared good can map to: any loaded cargo category, or a generic one. */
export type VisualCategory = Exclude<CargoCategory, 'empty'> | GenericCategory;
export const VISUAL_CATEGORIES: readonly VisualCategory[] = [
  ...CARGO_CATEGORIES.filter((c): c is Exclude<CargoCategory, 'empty'> => c !== 'empty'),
  ...GENERIC_CATEGORIES,
];

export interface VisualMapEntry {
  category: VisualCategory;
  lowRisk: boolean;
  parcelItem?: ParcelItem;
  note?: string;
}
export interface ReservedChapter {
  reserved: true;
  note: string;
}

export interface HsVisual extends VisualMapEntry {
  /** The map key that decided: a chapter (2 digits), heading (4) or subheading (6). */
  matchedOn: string;
}

/** True for categories the container classifier itself outputs, i.e. goods an image can confirm. */
export function isRecognisable(category: VisualCategory): category is Exclude<CargoCategory, 'empty'> {
  return (CARGO_CATEGORIES as readonly string[]).includes(category);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks one map entry; returns problems found (empty when fine). Exported for the coverage test. */
export function checkVisualMapEntry(key: string, v: unknown): string[] {
  if (!isObject(v)) return [`${key}: not an object`];
  if (v.reserved === true) return typeof v.note === 'string' ? [] : [`${key}: reserved entry needs a note`];
  const problems: string[] = [];
  if (!(VISUAL_CATEGORIES as readonly unknown[]).includes(v.category)) problems.push(`${key}: unknown category ${String(v.category)}`);
  if (typeof v.lowRisk !== 'boolean') problems.push(`${key}: lowRisk must be true or false`);
  if (v.parcelItem !== undefined && !(PARCEL_ITEMS as readonly unknown[]).includes(v.parcelItem)) {
    problems.push(`${key}: unknown parcel item ${String(v.parcelItem)}`);
  }
  return problems;
}

function loadMap(): {
  version: string;
  chapters: Map<string, VisualMapEntry | ReservedChapter>;
  overrides: Map<string, VisualMapEntry>;
} {
  const raw: unknown = mapData;
  if (!isObject(raw) || !isObject(raw.chapters) || !isObject(raw.overrides) || typeof raw.version !== 'string') {
    throw new Error('visual-categories.json: expected { version, chapters, overrides }');
  }
  const problems = [
    ...Object.entries(raw.chapters).flatMap(([k, v]) => checkVisualMapEntry(k, v)),
    ...Object.entries(raw.overrides).flatMap(([k, v]) =>
      isObject(v) && v.reserved === true ? [`${k}: only chapters may be reserved`] : checkVisualMapEntry(k, v),
    ),
  ];
  if (problems.length > 0) throw new Error(`visual-categories.json: ${problems.join('; ')}`);
  return {
    version: raw.version,
    chapters: new Map(Object.entries(raw.chapters) as Array<[string, VisualMapEntry | ReservedChapter]>),
    overrides: new Map(Object.entries(raw.overrides) as Array<[string, VisualMapEntry]>),
  };
}

const MAP = loadMap();
export const HS_VISUAL_MAP_VERSION = MAP.version;

/** The chapter's entry as written in the map (including reserved chapters); undefined if unmapped. */
export function chapterVisualEntry(chapter: string): VisualMapEntry | ReservedChapter | undefined {
  return MAP.chapters.get(chapter);
}

/**
 * The visual category of a declared HS code (2 to 10 digits): the most specific of subheading, heading
 * or chapter entry. Undefined for a reserved or unmapped chapter.
 */
export function visualCategoryOf(hsCode: string): HsVisual | undefined {
  const code = normalizeHsCode(hsCode);
  for (const len of [6, 4]) {
    if (code.length < len) continue;
    const key = code.slice(0, len);
    const entry = MAP.overrides.get(key);
    if (entry) return { ...entry, matchedOn: key };
  }
  const chapter = code.slice(0, 2);
  const entry = MAP.chapters.get(chapter);
  if (!entry || 'reserved' in entry) return undefined;
  return { ...entry, matchedOn: chapter };
}
