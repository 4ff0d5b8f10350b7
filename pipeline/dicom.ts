// DICOS/DICOM images (DX and CT, single and multi-frame) read with dicom-parser: the attributes ingest
// stores beside the image, and frame 0 as raw grey pixels for preprocessing. Only uncompressed
// little-endian pixel data is read; everything else is IMAGE_UNSUPPORTED, never guessed at.
import dicomParser from 'dicom-parser';
import type { DataSet } from 'dicom-parser';

/** Transfer syntaxes whose pixel data is plain little-endian samples. */
export const READABLE_TRANSFER_SYNTAXES: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.2': 'implicit VR little endian',
  '1.2.840.10008.1.2.1': 'explicit VR little endian',
};

export interface DicomAttributes {
  transferSyntaxUid: string;
  sopClassUid: string | null;
  sopInstanceUid: string | null;
  /** DICOM Modality (0008,0060): DX, CT, … */
  modality: string | null;
  width: number;
  height: number;
  frames: number;
  bitsAllocated: 8 | 16;
  bitsStored: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: 0 | 1;
  photometricInterpretation: 'MONOCHROME1' | 'MONOCHROME2';
  /** [row spacing, column spacing] in mm: Pixel Spacing, else Imager Pixel Spacing; null when absent. */
  pixelSpacingMm: [number, number] | null;
}

export interface DicomFrame {
  width: number;
  height: number;
  bitDepth: 8 | 16;
  /**
   * Frame 0 as MONOCHROME2 (higher = brighter); signed samples shifted by half the range to stay ordered,
   * unsigned samples of fewer stored bits scaled to the allocated range.
   */
  data: Uint8Array | Uint16Array;
}

export class DicomError extends Error {
  constructor(readonly code: 'IMAGE_UNSUPPORTED' | 'IMAGE_CORRUPT', message: string) {
    super(message);
    this.name = 'DicomError';
  }
}

const unsupported = (message: string) => new DicomError('IMAGE_UNSUPPORTED', message);
const corrupt = (message: string) => new DicomError('IMAGE_CORRUPT', message);
/** dicom-parser throws `{ exception, dataSet }` objects, not Errors. */
const why = (err: unknown) => String((err as { exception?: unknown } | null)?.exception ?? (err as Error)?.message ?? err);

/** A DICOM Part 10 file: a 128-byte preamble, then `DICM`. */
export function isDicom(head: Uint8Array): boolean {
  return head.length >= 132 && head[128] === 0x44 && head[129] === 0x49 && head[130] === 0x43 && head[131] === 0x4d;
}

function spacing(ds: DataSet, tag: string): [number, number] | null {
  const row = ds.floatString(tag, 0);
  const col = ds.floatString(tag, 1);
  if (row === undefined || col === undefined || !(row > 0) || !(col > 0) || !Number.isFinite(row) || !Number.isFinite(col)) return null;
  return [row, col];
}

function parse(bytes: Uint8Array): { ds: DataSet; attrs: DicomAttributes } {
  let transferSyntaxUid: string | undefined;
  try {
    transferSyntaxUid = dicomParser.readPart10Header(bytes).string('x00020010');
  } catch (err) {
    throw corrupt(`the DICOM file meta information cannot be read (${why(err)})`);
  }
  if (!transferSyntaxUid) throw corrupt('the DICOM file has no transfer syntax');
  if (!READABLE_TRANSFER_SYNTAXES[transferSyntaxUid]) {
    throw unsupported(`DICOM transfer syntax ${transferSyntaxUid} is not supported; send uncompressed little endian (1.2.840.10008.1.2 or 1.2.840.10008.1.2.1)`);
  }
  let ds: DataSet;
  try {
    ds = dicomParser.parseDicom(bytes);
  } catch (err) {
    throw corrupt(`the DICOM data set cannot be parsed (${why(err)})`);
  }
  const height = ds.uint16('x00280010') ?? 0;
  const width = ds.uint16('x00280011') ?? 0;
  const samples = ds.uint16('x00280002') ?? 1;
  const bitsAllocated = ds.uint16('x00280100');
  const pixelRepresentation = ds.uint16('x00280103') ?? 0;
  const photometric = (ds.string('x00280004') ?? 'MONOCHROME2').trim();
  const frames = ds.intString('x00280008') ?? 1;
  if (!ds.elements.x7fe00010) throw unsupported('the DICOM file has no Pixel Data (7FE0,0010)');
  if (samples !== 1 || (photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2')) {
    throw unsupported(`DICOM photometric interpretation ${photometric} with ${samples} samples per pixel is not supported; send MONOCHROME1 or MONOCHROME2`);
  }
  if (bitsAllocated !== 8 && bitsAllocated !== 16) throw unsupported(`DICOM Bits Allocated ${bitsAllocated ?? 'missing'} is not supported; use 8 or 16`);
  if (pixelRepresentation !== 0 && pixelRepresentation !== 1) throw corrupt(`DICOM Pixel Representation ${pixelRepresentation} is invalid`);
  if (!Number.isInteger(frames) || frames < 1) throw corrupt(`DICOM Number of Frames ${frames} is invalid`);
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  return {
    ds,
    attrs: {
      transferSyntaxUid,
      sopClassUid: ds.string('x00080016') ?? null,
      sopInstanceUid: ds.string('x00080018') ?? null,
      modality: ds.string('x00080060') ?? null,
      width,
      height,
      frames,
      bitsAllocated,
      bitsStored: bitsStored >= 1 && bitsStored <= bitsAllocated ? bitsStored : bitsAllocated,
      pixelRepresentation,
      photometricInterpretation: photometric,
      pixelSpacingMm: spacing(ds, 'x00280030') ?? spacing(ds, 'x00181164'),
    },
  };
}

/** The pixel data element's extent, checked to hold every frame (truncation is caught here). */
function pixelData(ds: DataSet, a: DicomAttributes): { offset: number; frameBytes: number } {
  const el = ds.elements.x7fe00010!;
  if (el.encapsulatedPixelData) throw unsupported('encapsulated (compressed) DICOM pixel data is not supported');
  const frameBytes = a.width * a.height * (a.bitsAllocated / 8);
  const available = Math.min(el.length, ds.byteArray.length - el.dataOffset);
  if (available < frameBytes * a.frames) {
    throw corrupt(`DICOM pixel data holds ${available} bytes; ${a.frames} frame(s) of ${a.width}×${a.height}×${a.bitsAllocated} bit need ${frameBytes * a.frames}`);
  }
  return { offset: el.dataOffset, frameBytes };
}

/**
 * Reads the attributes and checks the pixel data is all there. The pixel-count limit is checked from the
 * header, before anything is copied. Throws DicomError.
 */
export function readDicomAttributes(bytes: Uint8Array, maxPixels: number, onTooLarge: (width: number, height: number) => Error): DicomAttributes {
  const { ds, attrs } = parse(bytes);
  if (attrs.width < 1 || attrs.height < 1) throw corrupt('the DICOM image has no pixels (Rows or Columns missing)');
  if (attrs.width * attrs.height > maxPixels) throw onTooLarge(attrs.width, attrs.height);
  pixelData(ds, attrs);
  return attrs;
}

/** Frame 0 as grey pixels: 16-bit samples stay 16-bit; MONOCHROME1 is inverted so that higher is brighter. */
export function decodeDicomFrame(bytes: Uint8Array): DicomFrame & { attrs: DicomAttributes } {
  const { ds, attrs } = parse(bytes);
  const { offset, frameBytes } = pixelData(ds, attrs);
  const n = attrs.width * attrs.height;
  const signed = attrs.pixelRepresentation === 1;
  const invert = attrs.photometricInterpretation === 'MONOCHROME1';
  const view = new DataView(ds.byteArray.buffer, ds.byteArray.byteOffset + offset, frameBytes);
  if (attrs.bitsAllocated === 8) {
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = signed ? view.getInt8(i) + 128 : view.getUint8(i);
      data[i] = invert ? 255 - v : v;
    }
    return { width: attrs.width, height: attrs.height, bitDepth: 8, data, attrs };
  }
  const data = new Uint16Array(n);
  // Unsigned 12-bit (say) samples are scaled to the 16-bit range the renderers assume; the stored file keeps the originals.
  const mask = (1 << attrs.bitsStored) - 1;
  const shift = 16 - attrs.bitsStored;
  for (let i = 0; i < n; i++) {
    const v = signed ? view.getInt16(2 * i, true) + 32768 : (view.getUint16(2 * i, true) & mask) << shift;
    data[i] = invert ? 65535 - v : v;
  }
  return { width: attrs.width, height: attrs.height, bitDepth: 16, data, attrs };
}

/**
 * Where ingest stores a DICOM image's attributes (frames, pixel spacing, …) beside the content-addressed
 * image: derived from the bytes alone, so a retry writes the same object.
 */
export function dicomAttributesKey(imageObjectKey: string): string {
  return `${imageObjectKey}.json`;
}
