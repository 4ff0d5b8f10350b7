// Where an embedding model also looks at parts of a long container: overlapping full-height tiles along
// the length, so a mixed load is not averaged into one vector (issue 11). Geometry only; the runtime
// crops the tiles and preprocesses each one exactly as the card says.
import type { EmbeddingTile, Rendering } from './types.js';

/** Tile width in rendering heights: about a 20 ft box (6.06 m) over a box with its chassis. */
export const TILE_ASPECT = 2.2;

/**
 * Width/height from which a container rendering is "long" and is tiled. The longest 20 ft rendering (6.06 m
 * plus margins over a standard 2.59 m box, no chassis) is ≈ 2.5; the shortest 40 ft one (12.19 m over a
 * 2.90 m high cube on a chassis) ≈ 2.6.
 */
export const LONG_CONTAINER_ASPECT = 2.55;

export interface TileSpan {
  /** Left edge in rendering pixels. */
  x: number;
  width: number;
}

/**
 * The tiles of a long rendering: width min(W, round(H × 2.2)), stride half a tile, the last tile aligned
 * to the right edge so the whole width is covered. No tiles (empty) for a short rendering or when fewer
 * than two tiles would result.
 */
export function embeddingTiles(width: number, height: number): TileSpan[] {
  if (!(width > 0 && height > 0) || width / height < LONG_CONTAINER_ASPECT) return [];
  const tw = Math.min(width, Math.round(height * TILE_ASPECT));
  if (tw < 1 || tw >= width) return [];
  const stride = Math.max(1, Math.floor(tw / 2));
  const tiles: TileSpan[] = [];
  for (let x = 0; ; x += stride) {
    if (x + tw >= width) {
      tiles.push({ x: width - tw, width: tw });
      break;
    }
    tiles.push({ x, width: tw });
  }
  return tiles.length >= 2 ? tiles : [];
}

/** Columns [x, x + width) of a rendering at full height, as a rendering of their own. */
export function cropColumns(r: Rendering, x: number, width: number): Rendering {
  const ch = r.channels;
  const out = new Uint8Array(width * r.height * ch);
  const rowIn = r.width * ch;
  const rowOut = width * ch;
  for (let y = 0; y < r.height; y++) out.set(r.data.subarray(y * rowIn + x * ch, y * rowIn + (x + width) * ch), y * rowOut);
  return { width, height: r.height, channels: ch, data: out };
}

/**
 * The images one embedding run takes for a rendering: the whole rendering first, then the crops of its tiles
 * (none unless `tiled` and the rendering is long). Shared by the runtime and `npm run eval -- --knn`.
 */
export function withTileCrops(r: Rendering, tiled: boolean): { spans: TileSpan[]; images: Rendering[] } {
  const spans = tiled ? embeddingTiles(r.width, r.height) : [];
  return { spans, images: [r, ...spans.map((t) => cropColumns(r, t.x, t.width))] };
}

/** Tile vectors are stored with every long container scan: 5 decimals keep cosines to ~1e-5 and the JSON small. */
const r5 = (v: number): number => Math.round(v * 1e5) / 1e5;

/** The tiles as a scan stores them: each span with its vector (`vectors[i]` for `spans[i]`), rounded. */
export function storedTiles(spans: readonly TileSpan[], vectors: ReadonlyArray<readonly number[]>): EmbeddingTile[] {
  return spans.map((t, i) => ({ x: t.x, width: t.width, embedding: vectors[i]!.map(r5) }));
}
