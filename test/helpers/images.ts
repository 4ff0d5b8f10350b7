// Test images made on the fly: 16-bit grey PNGs (a dual-energy pair), 8-bit PNG/JPEG/TIFF.
import sharp from 'sharp';

/** A 16-bit grey PNG whose pixel values come from fn(x, y). */
export async function png16(width: number, height: number, fn: (x: number, y: number) => number): Promise<Buffer> {
  const px = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) px[y * width + x] = Math.max(0, Math.min(65535, Math.round(fn(x, y))));
  return sharp(px, { raw: { width, height, channels: 1 } }).toColourspace('grey16').png().toBuffer();
}

/** A dual-energy pair of a container-like scan: a bright air background with a dense block of cargo. */
export async function dualEnergyPair(width = 320, height = 120, seed = 1): Promise<{ high: Buffer; low: Buffer }> {
  const cargo = (x: number, y: number) => x > width * 0.2 && x < width * 0.8 && y > height * 0.2 && y < height * 0.85;
  const noise = (x: number, y: number) => ((x * 73856093) ^ (y * 19349663) ^ seed) % 500;
  return {
    high: await png16(width, height, (x, y) => (cargo(x, y) ? 18000 : 60000) + noise(x, y)),
    low: await png16(width, height, (x, y) => (cargo(x, y) ? 9000 : 58000) + noise(x, y)),
  };
}

export async function png8(width: number, height: number, channels: 1 | 3 = 1): Promise<Buffer> {
  return sharp({ create: { width, height, channels: channels === 1 ? 3 : 3, background: { r: 120, g: 90, b: 60 } } })
    .toColourspace(channels === 1 ? 'b-w' : 'srgb')
    .png()
    .toBuffer();
}

export async function jpeg8(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 120, b: 40 } } }).jpeg().toBuffer();
}

export async function tiff8(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 90, g: 90, b: 90 } } }).toColourspace('b-w').tiff().toBuffer();
}
