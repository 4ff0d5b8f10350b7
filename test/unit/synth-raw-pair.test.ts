// The generator's raw dual-energy PNGs must carry the 16-bit counts exactly as the pipeline decodes them
// (they once went through sharp as 8-bit samples and came back garbled).
import { expect, it } from 'vitest';
import { makeSample, png16Of } from '../../models/synth/index.js';
import { decodeImage } from '../../pipeline/imaging.js';

it('png16Of round-trips every 16-bit count through the ingest decoder', async () => {
  const s = makeSample('container', 4242, 3);
  for (const counts of [s.high, s.low]) {
    const decoded = await decodeImage(await png16Of(counts, s.width, s.height), { grey: true, maxPixels: 1e8 });
    expect([decoded.bitDepth, decoded.width, decoded.height]).toEqual([16, s.width, s.height]);
    expect(Buffer.from(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength).equals(Buffer.from(counts.buffer, counts.byteOffset, counts.byteLength))).toBe(true);
  }
});
