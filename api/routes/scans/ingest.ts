// Reads a scan push: a `metadata` JSON part and image parts, each image streamed to a temp file while
// hashed and size-capped, validated (format, pixel bomb, corruption), then stored content-addressed.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import type { Multipart } from '@fastify/multipart';
import { Value } from 'typebox/value';
import { checkContainerNo } from '../../../domain/iso6346.js';
import { IMAGE_ROLES, isContainerModality, type ImageRole } from '../../../domain/scan.js';
import { dicomAttributesKey } from '../../../pipeline/dicom.js';
import { ImageError, inspectImage, SNIFF_BYTES } from '../../../pipeline/imaging.js';
import type { ObjectStore } from '../../../storage/objects/object-store.js';
import type { ScanImage } from '../../../storage/repos/scans.js';
import { ApiError } from '../../errors.js';
import { fieldOf } from '../../plugins/errors.js';
import { ScanMetadata } from './schema.js';

const MAX_METADATA_BYTES = 16 * 1024;

export interface ParsedPush {
  metadata: ScanMetadata & { containerNo?: string };
  images: ScanImage[];
  contentHash: string;
}

interface SpooledFile {
  role: ImageRole;
  path: string;
  bytes: number;
  sha256: string;
  head: Buffer;
}

const metadataInvalid = (message: string, details?: Record<string, unknown>) => new ApiError(400, 'METADATA_INVALID', message, details);

async function spool(part: Multipart & { type: 'file' }, dir: string, role: ImageRole): Promise<SpooledFile> {
  const path = join(dir, `${role}-${randomUUID()}`);
  const hash = createHash('sha256');
  let bytes = 0;
  let head = Buffer.alloc(0);
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      if (head.length < SNIFF_BYTES) head = Buffer.concat([head, chunk.subarray(0, SNIFF_BYTES - head.length)]);
      cb(null, chunk);
    },
  });
  await pipeline(part.file, meter, createWriteStream(path));
  return { role, path, bytes, sha256: hash.digest('hex'), head };
}

function parseMetadata(text: string): ParsedPush['metadata'] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw metadataInvalid('metadata is not valid JSON');
  }
  if (!Value.Check(ScanMetadata, raw)) {
    const first = [...Value.Errors(ScanMetadata, raw)][0];
    const field = fieldOf(first) || 'metadata';
    throw metadataInvalid(`metadata.${field}: ${first?.message ?? 'invalid'}`, { field });
  }
  const meta = { ...raw };
  if (Number.isNaN(Date.parse(meta.capturedAt))) throw metadataInvalid('metadata.capturedAt is not a date-time', { field: 'capturedAt' });
  if (isContainerModality(meta.modality)) {
    if (!meta.containerNo) throw metadataInvalid('a container scan needs metadata.containerNo', { field: 'containerNo' });
    if (meta.waybill) throw metadataInvalid('a container scan has a containerNo, not a waybill', { field: 'waybill' });
    const check = checkContainerNo(meta.containerNo);
    if (!check.ok) {
      throw new ApiError(400, 'CONTAINER_NO_INVALID', check.message, {
        field: 'containerNo',
        ...(check.expectedCheckDigit !== undefined ? { expectedCheckDigit: check.expectedCheckDigit } : {}),
      });
    }
    meta.containerNo = check.containerNo;
  } else {
    if (!meta.waybill) throw metadataInvalid('a parcel scan needs metadata.waybill', { field: 'waybill' });
    if (meta.containerNo) throw metadataInvalid('a parcel scan has a waybill, not a containerNo', { field: 'containerNo' });
  }
  return meta;
}

/** Hash of what defines the scan: a retry has the same hash, a different scan under a reused id does not. */
function contentHashOf(meta: ParsedPush['metadata'], images: Array<{ role: string; sha256: string }>): string {
  const canonical = JSON.stringify({
    scanId: meta.scanId,
    scannerId: meta.scannerId,
    modality: meta.modality,
    containerNo: meta.containerNo ?? null,
    waybill: meta.waybill ?? null,
    capturedAt: new Date(meta.capturedAt).toISOString(),
    weightKg: meta.weightKg ?? null,
    images: [...images].sort((a, b) => a.role.localeCompare(b.role)).map((i) => `${i.role}:${i.sha256}`),
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/** Checks one spooled image fully and stores it content-addressed (with a DICOM file's header attributes). */
async function storeImage(f: SpooledFile, objects: ObjectStore, maxImagePixels: number): Promise<ScanImage> {
  if (f.bytes === 0) throw new ApiError(400, 'IMAGE_CORRUPT', `${f.role} image is empty`);
  let info;
  try {
    info = await inspectImage(f.path, f.head, maxImagePixels);
  } catch (err) {
    if (err instanceof ImageError) throw new ApiError(err.code === 'IMAGE_TOO_LARGE' ? 413 : 400, err.code, `${f.role}: ${err.message}`, { part: f.role });
    throw err;
  }
  const objectKey = `images/${f.sha256.slice(0, 2)}/${f.sha256}.${info.format}`;
  // Content-addressed: a retry rewrites identical bytes; nothing already stored can be altered.
  if (!(await objects.stat(objectKey))) {
    const contentType = info.format === 'dicom' ? 'application/dicom' : `image/${info.format}`;
    await objects.put(objectKey, createReadStream(f.path), { contentType, size: f.bytes });
  }
  // What the DICOM header says (frame count, pixel spacing) beside the image: the TDR export reads it.
  if (info.dicom && !(await objects.stat(dicomAttributesKey(objectKey)))) {
    await objects.put(dicomAttributesKey(objectKey), Buffer.from(JSON.stringify(info.dicom)), { contentType: 'application/json' });
  }
  return { role: f.role, objectKey, format: info.format, width: info.width, height: info.height, channels: info.channels, bitDepth: info.bitDepth, bytes: f.bytes, sha256: f.sha256 };
}

/**
 * A metadata part sent as a file: at most MAX_METADATA_BYTES are kept in memory. A longer one is read to its end
 * (kept nowhere, so the rest of the request can be answered) and refused; the upload's own size limit stops it.
 */
async function readMetadataFile(file: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of file) {
    bytes += chunk.length;
    if (bytes <= MAX_METADATA_BYTES) chunks.push(chunk);
  }
  if (bytes > MAX_METADATA_BYTES) throw metadataInvalid(`metadata exceeds ${MAX_METADATA_BYTES} bytes`);
  return Buffer.concat(chunks).toString('utf8');
}

export async function readScanPush(req: FastifyRequest, objects: ObjectStore, maxImagePixels: number): Promise<ParsedPush> {
  const dir = await mkdtemp(join(tmpdir(), 'tidewatch-upload-'));
  try {
    let metadataText: string | null = null;
    const files = new Map<ImageRole, SpooledFile>();
    for await (const part of req.parts()) {
      if (part.fieldname === 'metadata') {
        if (metadataText !== null) throw metadataInvalid('metadata sent twice');
        if (part.type === 'field') metadataText = String(part.value);
        else metadataText = await readMetadataFile(part.file);
        continue;
      }
      if (part.type !== 'file' || !(IMAGE_ROLES as readonly string[]).includes(part.fieldname)) {
        if (part.type === 'file') part.file.resume();
        throw new ApiError(400, 'PART_UNKNOWN', `unexpected part ${JSON.stringify(part.fieldname)}; send metadata and image (or high + low)`);
      }
      const role = part.fieldname as ImageRole;
      if (files.has(role)) throw new ApiError(400, 'PART_UNKNOWN', `image part ${role} sent twice`);
      files.set(role, await spool(part, dir, role));
    }
    if (metadataText === null) throw metadataInvalid('the metadata part is missing');
    const metadata = parseMetadata(metadataText);
    const roles = [...files.keys()].sort().join('+');
    if (roles !== 'image' && roles !== 'high+low') {
      throw new ApiError(400, 'IMAGE_MISSING', `send one image part, or high + low for dual energy (got ${roles || 'none'})`);
    }
    // A pair's two images are checked and stored at once (their inflates and writes overlap); when both are bad,
    // the first part sent is the one reported, as when they were checked one after the other.
    const settled = await Promise.allSettled([...files.values()].map((f) => storeImage(f, objects, maxImagePixels)));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const images = settled.map((r) => (r as PromiseFulfilledResult<ScanImage>).value);
    const a = images.find((i) => i.role === 'high');
    const b = images.find((i) => i.role === 'low');
    if (a && b && (a.width !== b.width || a.height !== b.height)) {
      throw new ApiError(400, 'IMAGE_MISMATCH', `high (${a.width}×${a.height}) and low (${b.width}×${b.height}) images differ in size`);
    }
    return { metadata, images, contentHash: contentHashOf(metadata, images) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
