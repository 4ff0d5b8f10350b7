import { describe, expect, it } from 'vitest';
import { createRenderingCache } from '../../pipeline/rendering-cache.js';
import type { Rendering } from '../../models/runtime/types.js';

const r = (bytes: number): Rendering => ({ width: bytes, height: 1, channels: 1, data: new Uint8Array(bytes) });

describe('rendering cache (preprocess → infer in one process)', () => {
  it('hands a rendering over once, for the same key only', () => {
    const c = createRenderingCache();
    const a = r(10);
    c.put('s1', 'renderings/s1.png', a);
    expect(c.take('s1', 'renderings/other.png')).toBeUndefined();
    expect(c.size).toBe(0); // a key mismatch drops the entry: the stored object is the truth
    c.put('s1', 'renderings/s1.png', a);
    expect(c.take('s1', 'renderings/s1.png')).toBe(a);
    expect(c.take('s1', 'renderings/s1.png')).toBeUndefined();
    expect(c.bytes).toBe(0);
  });

  it('stays within its entry and byte bounds, evicting the oldest first', () => {
    const c = createRenderingCache({ maxEntries: 3, maxBytes: 100 });
    for (let i = 0; i < 5; i++) c.put(`s${i}`, `k${i}`, r(10));
    expect(c.size).toBe(3);
    expect(c.take('s0', 'k0')).toBeUndefined();
    expect(c.take('s4', 'k4')).toBeDefined();
    c.put('big1', 'kb1', r(60));
    c.put('big2', 'kb2', r(60));
    expect(c.bytes).toBeLessThanOrEqual(100);
    expect(c.take('big2', 'kb2')).toBeDefined();
    c.put('huge', 'kh', r(101)); // larger than the whole cache: not kept
    expect(c.take('huge', 'kh')).toBeUndefined();
    c.put('s9', 'k9', r(10));
    c.put('s9', 'k9', r(20)); // a re-put replaces, counted once
    expect(c.take('s9', 'k9')!.data.byteLength).toBe(20);
  });
});
