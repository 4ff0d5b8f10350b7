// Image decoding with sharp (PNG, TIFF, JPEG) and dicom-parser (DICOS/DICOM): inspect at ingest (format,
// size, pixel bomb, corruption) and decode for preprocessing, keeping 16-bit data as 16-bit.
import { readFile } from 'node:fs/promises';
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
    // A full decode, discarded: the only way to know the data is all there.
    await sharp(input, { failOn: 'truncated', limitInputPixels: maxPixels }).raw().toBuffer();
  } catch {
    throw new ImageError('IMAGE_CORRUPT', `the ${format.toUpperCase()} data is truncated or corrupt`);
  }
  return { format, width, height, channels: meta.channels ?? 1, bitDepth };
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
export async function decodeImage(input: Buffer, opts: { grey: boolean; maxPixels: number }): Promise<DecodedImage> {
  if (isDicom(input)) {
    // The header is checked before any pixel buffer is allocated.
    readDicomAttributes(input, opts.maxPixels, (w, h) => tooLarge(w, h, opts.maxPixels));
    const frame = decodeDicomFrame(input);
    return { width: frame.width, height: frame.height, channels: 1, bitDepth: frame.bitDepth, data: frame.data };
  }
  const meta = await sharp(input).metadata();
  const sixteen = meta.depth === 'ushort';
  const isColour = (meta.channels ?? 1) >= 3 && !opts.grey;
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
