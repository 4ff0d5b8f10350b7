// Image decoding with sharp (PNG, TIFF, JPEG) and dicom-parser (DICOS/DICOM): inspect at ingest (format,
// size, pixel bomb, corruption) and decode for preprocessing, keeping 16-bit data as 16-bit.
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { crc32, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import sharp, { type Metadata } from 'sharp';
import { DicomError, decodeDicomFrame, isDicom, readDicomAttributes, type DicomAttributes } from './dicom.js';

export type ImageFormat = 'png' | 'tiff' | 'jpeg' | 'dicom';

export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
  channels: number;
  bitDepth: 8 | 16;
  /** DICOM only: frame count, pixel spacing and the other attributes read from the header. */
  dicom?: DicomAttributes;
}

/** Bytes of the file's start that sniffFormat needs (a DICOM preamble is 128 bytes, then `DICM`). */
export const SNIFF_BYTES = 132;

export interface DecodedImage {
  width: number;
  height: number;
  /** 1 for grey, 3 for colour renderings (alpha dropped). */
  channels: 1 | 3;
  bitDepth: 8 | 16;
  data: Uint8Array | Uint16Array;
}

export class ImageError extends Error {
  constructor(readonly code: 'IMAGE_UNSUPPORTED' | 'IMAGE_CORRUPT' | 'IMAGE_TOO_LARGE', message: string) {
    super(message);
    this.name = 'ImageError';
  }
}

const inflateAsync = promisify<InputType, ZlibOptions, Buffer>(inflate);
const INFLATE_CHUNK_MAX = 16 << 20;

const FORMATS: Record<string, ImageFormat> = { png: 'png', tiff: 'tiff', jpeg: 'jpeg' };
const SUPPORTED = 'image must be PNG, TIFF, JPEG or DICOM';

/** Sniffs magic bytes before handing anything to a decoder. */
export function sniffFormat(head: Uint8Array): ImageFormat | null {
  if (isDicom(head)) return 'dicom';
  if (head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) return 'png';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if ((head[0] === 0x49 && head[1] === 0x49 && head[2] === 0x2a && head[3] === 0x00) ||
      (head[0] === 0x4d && head[1] === 0x4d && head[2] === 0x00 && head[3] === 0x2a)) return 'tiff';
  return null;
}

/**
 * Validates an uploaded image fully: known format, pixel count under the limit (checked from the header,
 * before decoding, so a decompression bomb costs nothing), and a complete decode (truncation is caught).
 */
export async function inspectImage(input: string | Buffer, head: Uint8Array, maxPixels: number): Promise<ImageInfo> {
  const sniffed = sniffFormat(head);
  if (!sniffed) throw new ImageError('IMAGE_UNSUPPORTED', SUPPORTED);
  if (sniffed === 'dicom') return inspectDicom(typeof input === 'string' ? await readFile(input) : input, maxPixels);
  let meta: Metadata;
  try {
    meta = await sharp(input).metadata();
  } catch {
    throw new ImageError('IMAGE_CORRUPT', `the ${sniffed.toUpperCase()} header cannot be read`);
  }
  const format = FORMATS[meta.format ?? ''];
  if (!format || format !== sniffed) throw new ImageError('IMAGE_UNSUPPORTED', SUPPORTED);
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width < 1 || height < 1) throw new ImageError('IMAGE_CORRUPT', 'image has no pixels');
  if (width * height > maxPixels) {
    throw tooLarge(width, height, maxPixels);
  }
  if (width < 8 || height < 8) throw new ImageError('IMAGE_UNSUPPORTED', `image is ${width}×${height}; both sides must be at least 8 pixels`);
  const bitDepth = meta.depth === 'ushort' ? 16 : meta.depth === 'uchar' ? 8 : null;
  if (!bitDepth) throw new ImageError('IMAGE_UNSUPPORTED', `pixel depth ${meta.depth} is not supported; use 8 or 16 bit`);
  try {
    if (format === 'png') {
      // Every chunk's CRC, the whole zlib stream and every row's filter byte, without unfiltering or
      // converting pixels: what a full decode would find missing or damaged, at a fraction of its cost.
      await checkPngComplete(typeof input === 'string' ? await readFile(input) : input);
    } else {
      // A full decode, discarded: the only way to know the data is all there.
      await sharp(input, { failOn: 'truncated', limitInputPixels: maxPixels }).raw().toBuffer();
    }
  } catch {
    throw new ImageError('IMAGE_CORRUPT', `the ${format.toUpperCase()} data is truncated or corrupt`);
  }
  return { format, width, height, channels: meta.channels ?? 1, bitDepth };
}

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const PNG_DEPTHS: Record<number, readonly number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
// Adam7 passes: x start, y start, x step, y step.
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

/**
 * Resolves when a PNG is complete and intact: signature, IHDR first, every chunk whole with a matching CRC,
 * IDAT present, IEND last, the image data inflating to exactly the rows its header promises (interlaced
 * or not), each row with a valid filter type. Rejects otherwise. The pixel count is checked beforehand
 * (from the header), so the inflated size is bounded.
 */
export async function checkPngComplete(buf: Buffer): Promise<void> {
  const fail = (why: string) => new Error(`PNG ${why}`);
  if (buf.length < 8 || buf.readUInt32BE(0) !== 0x89504e47 || buf.readUInt32BE(4) !== 0x0d0a1a0a) throw fail('signature');
  let off = 8;
  let ihdr: Buffer | null = null;
  const idat: Buffer[] = [];
  let ended = false;
  let palette = false;
  while (!ended) {
    if (off + 12 > buf.length) throw fail('truncated');
    const len = buf.readUInt32BE(off);
    if (len > 0x7fffffff || off + 12 + len > buf.length) throw fail('truncated');
    const type = buf.toString('latin1', off + 4, off + 8);
    // Critical chunks (upper-case first letter) must be intact; a decoder skips damaged ancillary ones.
    const critical = type.charCodeAt(0) < 0x61;
    if (critical && crc32(buf.subarray(off + 4, off + 8 + len)) !== buf.readUInt32BE(off + 8 + len)) throw fail(`${type} CRC mismatch`);
    const body = buf.subarray(off + 8, off + 8 + len);
    if (!ihdr && type !== 'IHDR') throw fail('does not start with IHDR');
    if (type === 'IHDR') ihdr = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') ended = true;
    else if (type === 'PLTE') palette = true;
    off += 12 + len;
  }
  if (!ihdr || ihdr.length !== 13 || idat.length === 0) throw fail('IHDR or IDAT missing');
  const width = ihdr.readUInt32BE(0), height = ihdr.readUInt32BE(4);
  const depth = ihdr[8]!, colour = ihdr[9]!, interlace = ihdr[12]!;
  const channels = PNG_CHANNELS[colour];
  if (!channels || !PNG_DEPTHS[colour]!.includes(depth) || ihdr[10] !== 0 || ihdr[11] !== 0 || interlace > 1 || width < 1 || height < 1) throw fail('IHDR invalid');
  if (colour === 3 && !palette) throw fail('PLTE missing');
  const bitsPerPixel = channels * depth;
  // The rows of each pass (one pass when not interlaced): count and bytes per row, filter byte included.
  const passes = (interlace ? ADAM7 : [[0, 0, 1, 1]] as const).map(([x0, y0, dx, dy]) => {
    const w = Math.ceil((width - x0) / dx), h = Math.ceil((height - y0) / dy);
    return w > 0 && h > 0 ? { rows: h, rowBytes: 1 + Math.ceil((w * bitsPerPixel) / 8) } : { rows: 0, rowBytes: 0 };
  });
  const expected = passes.reduce((s, p) => s + p.rows * p.rowBytes, 0);
  let raw: Buffer;
  try {
    // Output chunks of the expected size (plus a byte, so extra data shows at once) up to 16 MiB: zlib's default
    // 16 KiB chunks cost a callback each and a copy of them all at the end (14 against 8 ms of CPU for a
    // 2049 × 472 16-bit container image). The cap keeps a short stream claiming a huge image from reserving it all.
    const chunkSize = Math.max(64, Math.min(expected + 1, INFLATE_CHUNK_MAX));
    raw = await inflateAsync(idat.length === 1 ? idat[0]! : Buffer.concat(idat), { maxOutputLength: expected, chunkSize });
  } catch (err) {
    // More data than the rows need is what a decoder ignores; anything else is damage.
    if ((err as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') throw err;
    return;
  }
  if (raw.length < expected) throw fail('image data truncated');
  let at = 0;
  for (const p of passes) {
    for (let r = 0; r < p.rows; r++, at += p.rowBytes) if (raw[at]! > 4) throw fail('invalid row filter');
  }
}

const tooLarge = (width: number, height: number, maxPixels: number) =>
  new ImageError('IMAGE_TOO_LARGE', `image is ${width}×${height} pixels; the limit is ${maxPixels} pixels`);

/** A DICOM file is read whole (it is bounded by the upload limit); its pixel count is checked from the header. */
function inspectDicom(bytes: Buffer, maxPixels: number): ImageInfo {
  let dicom: DicomAttributes;
  try {
    dicom = readDicomAttributes(bytes, maxPixels, (w, h) => tooLarge(w, h, maxPixels));
  } catch (err) {
    if (err instanceof DicomError) throw new ImageError(err.code, err.message);
    throw err;
  }
  if (dicom.width < 8 || dicom.height < 8) {
    throw new ImageError('IMAGE_UNSUPPORTED', `image is ${dicom.width}×${dicom.height}; both sides must be at least 8 pixels`);
  }
  return { format: 'dicom', width: dicom.width, height: dicom.height, channels: 1, bitDepth: dicom.bitsAllocated, dicom };
}

/**
 * Decodes to raw pixels: grey stays one channel (16-bit kept), colour becomes 8-bit RGB. A DICOM file
 * decodes to its first frame.
 */
export async function decodeImage(
  input: Buffer,
  opts: {
    grey: boolean;
    maxPixels: number;
    /** Depth and channels the ingest already read from this image's header: saves reading it again. */
    known?: { bitDepth: number; channels: number };
  },
): Promise<DecodedImage> {
  if (isDicom(input)) {
    // The header is checked before any pixel buffer is allocated.
    readDicomAttributes(input, opts.maxPixels, (w, h) => tooLarge(w, h, opts.maxPixels));
    const frame = decodeDicomFrame(input);
    return { width: frame.width, height: frame.height, channels: 1, bitDepth: frame.bitDepth, data: frame.data };
  }
  let meta = opts.known;
  if (!meta) {
    const m = await sharp(input).metadata();
    meta = { bitDepth: m.depth === 'ushort' ? 16 : 8, channels: m.channels ?? 1 };
  }
  const sixteen = meta.bitDepth === 16;
  const isColour = meta.channels >= 3 && !opts.grey;
  let pipeline = sharp(input, { failOn: 'truncated', limitInputPixels: opts.maxPixels }).removeAlpha();
  if (isColour) {
    const { data, info } = await pipeline.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, channels: 3, bitDepth: 8, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  }
  if (sixteen) {
    pipeline = pipeline.toColourspace('grey16');
    const { data, info } = await pipeline.raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
    // Copy to an aligned buffer: sharp's Buffer may start at an odd offset in a shared pool.
    const aligned = new Uint16Array(info.width * info.height);
    new Uint8Array(aligned.buffer).set(data.subarray(0, aligned.byteLength));
    return { width: info.width, height: info.height, channels: 1, bitDepth: 16, data: aligned };
  }
  const { data, info } = await pipeline.toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 1, bitDepth: 8, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
