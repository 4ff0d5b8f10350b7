// Hands a scan's rendering from preprocess to infer inside one worker process, so infer does not read back
// and decode the PNG that preprocess has just encoded. Only a shortcut: the PNG is still written (the UI and
// other workers read it), an entry is used only for the same rendering key, and a miss reads the object.
// Bounded in entries and bytes; an entry is dropped when infer takes it, or evicted oldest first.
import type { Rendering } from '../models/runtime/types.js';

export interface RenderingCache {
  put(scanId: string, key: string, rendering: Rendering): void;
  /** The rendering stored under `key` for this scan, removed from the cache; undefined on a miss. */
  take(scanId: string, key: string): Rendering | undefined;
  readonly size: number;
  readonly bytes: number;
}

export function createRenderingCache(opts: { maxEntries?: number; maxBytes?: number } = {}): RenderingCache {
  const maxEntries = opts.maxEntries ?? 64;
  const maxBytes = opts.maxBytes ?? 64 * 2 ** 20;
  // Map keeps insertion order: the first entry is the oldest.
  const entries = new Map<string, { key: string; rendering: Rendering }>();
  let bytes = 0;
  const drop = (scanId: string) => {
    const e = entries.get(scanId);
    if (!e) return;
    entries.delete(scanId);
    bytes -= e.rendering.data.byteLength;
  };
  return {
    put(scanId, key, rendering) {
      drop(scanId);
      if (rendering.data.byteLength > maxBytes) return;
      entries.set(scanId, { key, rendering });
      bytes += rendering.data.byteLength;
      while (entries.size > maxEntries || bytes > maxBytes) drop(entries.keys().next().value!);
    },
    take(scanId, key) {
      const e = entries.get(scanId);
      if (!e) return undefined;
      drop(scanId);
      return e.key === key ? e.rendering : undefined;
    },
    get size() {
      return entries.size;
    },
    get bytes() {
      return bytes;
    },
  };
}
