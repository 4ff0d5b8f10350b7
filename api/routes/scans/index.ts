// Scan routes: a gateway pushes a scan (POST /v1/scans) and follows it to its verdict (GET /v1/scans/:id).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Queues } from '../../../pipeline/queues.js';
import type { Sql } from '../../../storage/db/sql.js';
import type { ObjectStore } from '../../../storage/objects/object-store.js';
import { scansRepo, type Scan } from '../../../storage/repos/scans.js';
import { verdictsRepo, type StoredVerdict } from '../../../storage/repos/verdicts.js';
import { ApiError, notFound } from '../../errors.js';
import { errorResponses } from '../../schemas.js';
import { readScanPush } from './ingest.js';
import { ScanAccepted, ScanMetadata, ScanView } from './schema.js';
import { DatabaseUnavailableError } from '../../../storage/db/sql.js';

export interface ScanRoutesOptions {
  db: Sql;
  objects: ObjectStore;
  queues: Queues;
  maxImagePixels: number;
}

export function scanView(scan: Scan, history: StoredVerdict[]) {
  return {
    scanId: scan.scanId,
    status: scan.status,
    modality: scan.modality,
    scannerId: scan.scannerId,
    containerNo: scan.containerNo,
    waybill: scan.waybill,
    capturedAt: scan.capturedAt,
    receivedAt: scan.receivedAt,
    weightKg: scan.weightKg,
    images: scan.images.map((i) => ({ role: i.role, format: i.format, width: i.width, height: i.height, bitDepth: i.bitDepth, bytes: i.bytes })),
    verdict: history.at(-1) ?? null,
    history,
  };
}

const scanRoutes: FastifyPluginAsyncTypebox<ScanRoutesOptions> = async (app, opts) => {
  const scans = scansRepo(opts.db);
  const verdicts = verdictsRepo(opts.db);

  app.post(
    '/v1/scans',
    {
      onRequest: app.requireRole('gateway'),
      schema: {
        summary: 'Push a scan (multipart: metadata JSON + image, or high + low)',
        description: `multipart/form-data. Part \`metadata\`: JSON matching ScanMetadata. Image parts: \`image\`, or \`high\` and \`low\` (dual energy). PNG, TIFF or JPEG, 8 or 16 bit, or DICOS/DICOM (uncompressed little endian, MONOCHROME1/2, 8 or 16 bit; frame 0 of a multi-frame file is the image).`,
        tags: ['scans'],
        security: [{ bearer: [] }],
        consumes: ['multipart/form-data'],
        response: { 200: ScanAccepted, 202: ScanAccepted, ...errorResponses },
      },
    },
    async (req, reply) => {
      if (!req.isMultipart()) throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send multipart/form-data');
      const push = await readScanPush(req, opts.objects, opts.maxImagePixels).catch((err: unknown) => {
        if (err instanceof ApiError || err instanceof DatabaseUnavailableError || (err as { statusCode?: number }).statusCode) throw err;
        req.log.warn({ err: (err as Error).message }, 'object store write failed');
        throw new ApiError(503, 'STORAGE_UNAVAILABLE', 'the image store is unavailable; retry later');
      });
      const result = await scans.insert({
        scanId: push.metadata.scanId,
        gatewayId: req.principal!.id,
        scannerId: push.metadata.scannerId,
        modality: push.metadata.modality,
        containerNo: push.metadata.containerNo,
        waybill: push.metadata.waybill,
        capturedAt: new Date(push.metadata.capturedAt).toISOString(),
        weightKg: push.metadata.weightKg,
        contentHash: push.contentHash,
        images: push.images,
      });
      if (result.outcome === 'conflict') {
        // scan ids are one namespace across gateways: another gateway's scan is not named as such (GET hides it too)
        throw new ApiError(409, 'SCAN_ID_CONFLICT', `scan id ${push.metadata.scanId} is taken by a scan with different content; retries must send the same content, a new scan needs a new id`);
      }
      if (result.scan.status === 'received') {
        // The scan is durable now; if Redis is away the sweeper enqueues it later.
        await opts.queues.enqueue('preprocess', result.scan.scanId).catch((err: Error) => {
          req.log.warn({ scanId: result.scan.scanId, err: err.message }, 'enqueue failed; the sweeper will pick the scan up');
        });
      }
      return reply.status(result.outcome === 'created' ? 202 : 200).send({
        scanId: result.scan.scanId,
        status: result.scan.status,
        statusUrl: `/v1/scans/${encodeURIComponent(result.scan.scanId)}`,
      });
    },
  );

  app.get(
    '/v1/scans/:scanId',
    {
      onRequest: app.requireRole('gateway', 'reviewer', 'supervisor', 'risk-control', 'admin'),
      schema: {
        summary: "A scan's processing status and its verdict history",
        tags: ['scans'],
        security: [{ bearer: [] }],
        params: Type.Object({ scanId: Type.String({ maxLength: 128 }) }),
        response: { 200: ScanView, ...errorResponses },
      },
    },
    async (req) => {
      // Verdicts first: the verdict and the `assessed` status commit together, so a client that sees a
      // verdict also sees the status it came with.
      const history = await verdicts.forScan(req.params.scanId);
      const scan = await scans.get(req.params.scanId);
      // Another gateway's scan is reported as absent: ids must not leak across sites.
      const foreign = req.principal!.role === 'gateway' && scan?.gatewayId !== req.principal!.id;
      if (!scan || foreign) throw notFound('SCAN_NOT_FOUND', `no scan ${req.params.scanId}`);
      return scanView(scan, history);
    },
  );
};

export { ScanMetadata };
export default scanRoutes;
