// The ingest's PNG completeness check (instead of a full decode): every valid layout passes, and every
// truncation or damaged byte in the image data that a decoder would trip on is caught.
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { checkPngComplete, inspectImage } from '../../pipeline/imaging.js';

const W = 37, H = 23; // odd sizes: partial bytes per row and uneven Adam7 passes
const grey16 = new Uint16Array(W * H).map((_, i) => (i * 7919) % 65536);
const rgb = Buffer.from(Array.from({ length: W * H * 3 }, (_, i) => (i * 31) % 256));

async function variants(): Promise<Record<string, Buffer>> {
  const g16 = () => sharp(grey16, { raw: { width: W, height: H, channels: 1 } }).toColourspace('grey16');
  const c = () => sharp(rgb, { raw: { width: W, height: H, channels: 3 } });
  return {
    'grey 16': await g16().png().toBuffer(),
    'grey 16 interlaced': await g16().png({ progressive: true }).toBuffer(),
    'grey 8': await c().toColourspace('b-w').png().toBuffer(),
    rgb: await c().png().toBuffer(),
    'rgb interlaced': await c().png({ progressive: true, compressionLevel: 9 }).toBuffer(),
    rgba: await c().ensureAlpha(0.5).png().toBuffer(),
    'palette 2 colours': await c().png({ palette: true, colours: 2 }).toBuffer(),
    'palette interlaced': await c().png({ palette: true, progressive: true }).toBuffer(),
  };
}

/** The PNG with its IHDR height set to `height` (CRC recomputed): every chunk intact, the rows count changed. */
function withHeight(png: Buffer, height: number): Buffer {
  const patched = Buffer.from(png);
  patched.writeUInt32BE(height, 20);
  patched.writeUInt32BE(crc32(patched.subarray(12, 29)), 29);
  return patched;
}

describe('checkPngComplete', () => {
  it('accepts every colour type, depth and interlacing sharp writes (and sharp decodes them too)', async () => {
    for (const [name, png] of Object.entries(await variants())) {
      await expect(checkPngComplete(png), name).resolves.toBeUndefined();
      await sharp(png, { failOn: 'truncated' }).raw().toBuffer();
    }
  });

  it('rejects every truncation', async () => {
    for (const png of Object.values(await variants())) {
      for (let cut = 0; cut < png.length; cut += Math.max(1, Math.floor(png.length / 97))) {
        await expect(checkPngComplete(png.subarray(0, cut))).rejects.toThrow();
      }
      await expect(checkPngComplete(png.subarray(0, png.length - 1))).rejects.toThrow();
    }
  });

  it('rejects a damaged byte in the image data (CRC) and rows missing behind valid CRCs', async () => {
    const png = (await variants())['grey 16']!;
    const idat = png.indexOf('IDAT');
    const flipped = Buffer.from(png);
    flipped[idat + 20]! ^= 0xff;
    await expect(checkPngComplete(flipped)).rejects.toThrow(/CRC/);
    // A deflate stream cut short inside a chunk with a valid CRC (a buggy writer): rows are missing.
    const short = await sharp(grey16, { raw: { width: W, height: H - 5, channels: 1 } }).toColourspace('grey16').png().toBuffer();
    // IHDR height says more rows than the data holds
    await expect(checkPngComplete(withHeight(short, H))).rejects.toThrow(/truncated/);
  });

  it('accepts image data longer than its rows need (a decoder ignores the rest)', async () => {
    const png = (await variants())['grey 16']!;
    // IHDR height says fewer rows than the data holds
    await expect(checkPngComplete(withHeight(png, H - 5))).resolves.toBeUndefined();
  });

  it('checks an image whose rows inflate past one 16 MiB output chunk: whole, and rows missing', async () => {
    // 3000 × 3000 × 16 bit: 18 MB of rows, inflated in two chunks
    const big = await sharp(new Uint16Array(3000 * 3000).map((_, i) => (i * 2654435761) % 65536), { raw: { width: 3000, height: 3000, channels: 1 } })
      .toColourspace('grey16').png({ compressionLevel: 1 }).toBuffer();
    await expect(checkPngComplete(big)).resolves.toBeUndefined();
    // every chunk intact, but the header promises 100 rows more than the data inflates to
    await expect(checkPngComplete(withHeight(big, 3100))).rejects.toThrow(/image data truncated/);
  });

  it('inspectImage answers IMAGE_CORRUPT for a truncated PNG and accepts the whole one', async () => {
    const png = (await variants())['grey 16']!;
    await expect(inspectImage(png, png.subarray(0, 132), 1e6)).resolves.toMatchObject({ format: 'png', width: W, height: H, bitDepth: 16, channels: 1 });
    await expect(inspectImage(png.subarray(0, png.length - 40), png.subarray(0, 132), 1e6)).rejects.toMatchObject({ code: 'IMAGE_CORRUPT' });
  });
});
