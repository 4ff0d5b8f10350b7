// Fetches and decodes pyramid tiles: 16-bit tiles arrive as raw little-endian uint16 (kept as counts so the
// viewer can window them), 8-bit tiles as PNG decoded to RGBA. Signed URLs expire: on 403 the set is
// renewed once and the tile asked again.
import { ApiFailure, type ImageUrls, type TileSet } from '../api.js';

export interface TilePixels {
  width: number;
  height: number;
  /** 16-bit counts, or 8-bit grey (the red channel of a grey PNG). */
  values: Uint16Array | Uint8Array;
  /** Colour sources only: the tile's RGBA. */
  rgba?: Uint8ClampedArray;
}

export class TileClient {
  private urls: ImageUrls;
  private renewing: Promise<void> | null = null;

  constructor(urls: ImageUrls, private readonly renew: () => Promise<ImageUrls>) {
    this.urls = urls;
  }

  set(role: string): TileSet | undefined {
    return this.urls.tiles.byRole[role];
  }

  get displayRole(): string {
    return this.urls.tiles.role;
  }

  async load(role: string, z: number, x: number, y: number): Promise<TilePixels> {
    for (let attempt = 0; ; attempt++) {
      const set = this.set(role);
      if (!set) throw new Error(`no ${role} tiles`);
      const res = await fetch(set.url.replace('{z}', String(z)).replace('{x}', String(x)).replace('{y}', String(y)));
      if (res.status === 403 && attempt === 0) {
        this.renewing ??= this.renew().then((u) => {
          this.urls = u;
          this.renewing = null;
        });
        await this.renewing;
        continue;
      }
      if (!res.ok) throw new ApiFailure(res.status, `HTTP_${res.status}`, `tile ${role} ${z}/${x}/${y} answered ${res.status}`);
      const width = Number(res.headers.get('x-tile-width'));
      const height = Number(res.headers.get('x-tile-height'));
      if (res.headers.get('x-bit-depth') === '16') {
        const buf = await res.arrayBuffer();
        // Every browser this runs on is little-endian, the wire order; a view avoids a copy.
        return { width, height, values: new Uint16Array(buf, 0, width * height) };
      }
      const bitmap = await createImageBitmap(await res.blob());
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      ctx.drawImage(bitmap, 0, 0);
      const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
      const values = new Uint8Array(bitmap.width * bitmap.height);
      for (let i = 0; i < values.length; i++) values[i] = rgba[4 * i]!;
      const colour = res.headers.get('x-channels') === '3';
      return { width: bitmap.width, height: bitmap.height, values, ...(colour ? { rgba } : {}) };
    }
  }
}
