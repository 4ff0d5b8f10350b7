// The tile pyramid of a stored image: level 0 is full resolution, each level above halves both sides
// (2×2 mean, so 16-bit counts stay counts), up to the level that fits in one tile. Tiles are cut on first
// request and kept in the object store under tiles/…; decoded levels stay in a small memory cache so a
// reviewer panning a fresh scan costs one decode, not one per tile.
import { endianness } from 'node:os';
import { gunzipSync, gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { decodeImage } from '../../../pipeline/imaging.js';
import { ObjectNotFoundError, type ObjectStore } from '../../../storage/objects/object-store.js';

export const TILE_SIZE = 256;

export interface Plane {
  width: number;
  height: number;
  channels: 1 | 3;
  bitDepth: 8 | 16;
  data: Uint8Array | Uint16Array;
}

export interface Tile {
  width: number;
  height: number;
  channels: 1 | 3;
  bitDepth: 8 | 16;
  /** 16-bit: gzip of raw little-endian uint16; 8-bit: PNG. */
  body: Buffer;
  contentType: 'application/octet-stream' | 'image/png';
  gzipped: boolean;
}

/** Number of levels: enough halvings that the whole image fits in one tile. */
export function levelCount(width: number, height: number, tileSize = TILE_SIZE): number {
  let levels = 1;
  let side = Math.max(width, height);
  while (side > tileSize) {
    side = Math.ceil(side / 2);
    levels++;
  }
  return levels;
}

export function levelSize(width: number, height: number, z: number): { width: number; height: number } {
  const f = 2 ** z;
  return { width: Math.ceil(width / f), height: Math.ceil(height / f) };
}

/** Halves a plane by the mean of each 2×2 block (edge blocks average the pixels they have). */
export function halve(p: Plane): Plane {
  const w = Math.ceil(p.width / 2);
  const h = Math.ceil(p.height / 2);
  const c = p.channels;
  const out = p.bitDepth === 16 ? new Uint16Array(w * h * c) : new Uint8Array(w * h * c);
  const src = p.data;
  for (let y = 0; y < h; y++) {
    const y0 = 2 * y;
    const y1 = Math.min(y0 + 1, p.height - 1);
    for (let x = 0; x < w; x++) {
      const x0 = 2 * x;
      const x1 = Math.min(x0 + 1, p.width - 1);
      for (let k = 0; k < c; k++) {
        const s = src[(y0 * p.width + x0) * c + k]! + src[(y0 * p.width + x1) * c + k]! + src[(y1 * p.width + x0) * c + k]! + src[(y1 * p.width + x1) * c + k]!;
        out[(y * w + x) * c + k] = (s + 2) >> 2;
      }
    }
  }
  return { width: w, height: h, channels: c, bitDepth: p.bitDepth, data: out };
}

/** Copies the tile's rectangle out of a level plane. */
export function cut(p: Plane, x: number, y: number, tileSize = TILE_SIZE): Plane {
  const x0 = x * tileSize;
  const y0 = y * tileSize;
  const w = Math.min(tileSize, p.width - x0);
  const h = Math.min(tileSize, p.height - y0);
  const c = p.channels;
  const out = p.bitDepth === 16 ? new Uint16Array(w * h * c) : new Uint8Array(w * h * c);
  for (let row = 0; row < h; row++) {
    const start = ((y0 + row) * p.width + x0) * c;
    out.set(p.data.subarray(start, start + w * c), row * w * c);
  }
  return { width: w, height: h, channels: c, bitDepth: p.bitDepth, data: out };
}

async function encodeTile(t: Plane): Promise<Tile> {
  const base = { width: t.width, height: t.height, channels: t.channels, bitDepth: t.bitDepth };
  if (t.bitDepth === 16) {
    const raw = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    // The wire format is little-endian whatever the host is.
    const le = endianness() === 'LE' ? raw : Buffer.from(raw).swap16();
    return { ...base, body: gzipSync(le, { level: 1 }), contentType: 'application/octet-stream', gzipped: true };
  }
  const png = await sharp(t.data, { raw: { width: t.width, height: t.height, channels: t.channels } }).png({ compressionLevel: 3 }).toBuffer();
  return { ...base, body: png, contentType: 'image/png', gzipped: false };
}

export interface PyramidSource {
  scanId: string;
  role: string;
  objectKey: string;
  width: number;
  height: number;
  /** As stored: 16-bit grey decodes to 16-bit, anything else to 8-bit grey or RGB. */
  bitDepth: number;
  channels: number;
}

export interface Pyramid {
  tile(src: PyramidSource, z: number, x: number, y: number): Promise<Tile>;
}

const isSixteen = (src: PyramidSource) => src.bitDepth === 16 && src.channels < 3;

/** Object-store key of a cached tile; the extension says its encoding. */
export function tileKey(src: PyramidSource, z: number, x: number, y: number): string {
  return `tiles/${src.scanId}/${src.role}/${z}/${x}-${y}.${isSixteen(src) ? 'u16.gz' : 'png'}`;
}

/** Tile (x, y) of level z exists. */
export function tileExists(src: PyramidSource, z: number, x: number, y: number, tileSize = TILE_SIZE): boolean {
  if (z < 0 || z >= levelCount(src.width, src.height, tileSize) || x < 0 || y < 0) return false;
  const { width, height } = levelSize(src.width, src.height, z);
  return x * tileSize < width && y * tileSize < height;
}

/** A stored tile's header, from the geometry (16-bit) or the PNG's IHDR chunk (8-bit). */
function storedTile(src: PyramidSource, z: number, x: number, y: number, body: Buffer): Tile {
  const { width: lw, height: lh } = levelSize(src.width, src.height, z);
  const width = Math.min(TILE_SIZE, lw - x * TILE_SIZE);
  const height = Math.min(TILE_SIZE, lh - y * TILE_SIZE);
  if (isSixteen(src)) return { width, height, channels: 1, bitDepth: 16, body, contentType: 'application/octet-stream', gzipped: true };
  const colourType = body[25];
  return { width, height, channels: colourType === 2 ? 3 : 1, bitDepth: 8, body, contentType: 'image/png', gzipped: false };
}

export function createPyramid(objects: ObjectStore, opts: { maxImagePixels: number; cacheBytes?: number }): Pyramid {
  const cacheBytes = opts.cacheBytes ?? 256 * 1024 * 1024;
  // Levels by "scan/role/z", least recently used first (Map keeps insertion order).
  const levels = new Map<string, Promise<Plane>>();
  const sizes = new Map<string, number>();
  let held = 0;

  const remember = (key: string, plane: Promise<Plane>) => {
    levels.set(key, plane);
    plane.then(
      (p) => {
        if (levels.get(key) !== plane) return;
        sizes.set(key, p.data.byteLength);
        held += p.data.byteLength;
        for (const [k] of levels) {
          if (held <= cacheBytes || k === key) break;
          held -= sizes.get(k) ?? 0;
          sizes.delete(k);
          levels.delete(k);
        }
      },
      () => levels.delete(key),
    );
  };

  function level(src: PyramidSource, z: number): Promise<Plane> {
    const key = `${src.scanId}/${src.role}/${z}`;
    const hit = levels.get(key);
    if (hit) {
      levels.delete(key);
      levels.set(key, hit);
      return hit;
    }
    const plane =
      z === 0
        ? objects.get(src.objectKey).then(async (bytes) => {
            const d = await decodeImage(bytes, { grey: false, maxPixels: opts.maxImagePixels });
            return { width: d.width, height: d.height, channels: d.channels, bitDepth: d.bitDepth, data: d.data } satisfies Plane;
          })
        : level(src, z - 1).then(halve);
    remember(key, plane);
    return plane;
  }

  return {
    async tile(src, z, x, y) {
      const key = tileKey(src, z, x, y);
      try {
        return storedTile(src, z, x, y, await objects.get(key));
      } catch (err) {
        if (!(err instanceof ObjectNotFoundError)) throw err;
      }
      const tile = await encodeTile(cut(await level(src, z), x, y));
      await objects.put(key, tile.body, { contentType: tile.contentType });
      return tile;
    },
  };
}

/** For clients that do not accept gzip. */
export function gunzipTile(body: Buffer): Buffer {
  return gunzipSync(body);
}
