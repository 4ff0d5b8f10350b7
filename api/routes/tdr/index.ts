// GET /v1/scans/:scanId/tdr: the latest verdict of a scan as a DICOS-style Threat Detection Report, for
// risk control and for systems that speak DICOS.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { dicomAttributesKey, type DicomAttributes } from '../../../pipeline/dicom.js';
import type { Sql } from '../../../storage/db/sql.js';
import type { ObjectStore } from '../../../storage/objects/object-store.js';
import { scansRepo, type Scan } from '../../../storage/repos/scans.js';
import { verdictsRepo } from '../../../storage/repos/verdicts.js';
import { ApiError, notFound } from '../../errors.js';
import { errorResponses } from '../../schemas.js';
import { ThreatDetectionReport, toTdr } from './tdr.js';

async function primaryDicomAttributes(objects: ObjectStore, scan: Scan): Promise<DicomAttributes | null> {
  const primary = scan.images.find((i) => i.role === 'image') ?? scan.images.find((i) => i.role === 'high');
  if (primary?.format !== 'dicom') return null;
  const info = await objects.stat(dicomAttributesKey(primary.objectKey));
  return info ? (JSON.parse((await objects.get(info.key)).toString('utf8')) as DicomAttributes) : null;
}

const tdrRoutes: FastifyPluginAsyncTypebox<{ db: Sql; objects: ObjectStore }> = async (app, opts) => {
  const scans = scansRepo(opts.db);
  const verdicts = verdictsRepo(opts.db);

  app.get(
    '/v1/scans/:scanId/tdr',
    {
      onRequest: app.requireRole('risk-control', 'supervisor', 'reviewer', 'gateway'),
      schema: {
        summary: "The scan's latest verdict as a DICOS-style Threat Detection Report (JSON)",
        description:
          'tdrType is MACHINE for the machine verdict, OPERATOR for a reviewer or supervisor decision, GROUND_TRUTH for a physical inspection. ' +
          'alarmDecision is CLEAR for a clear verdict, ALARM for review or hold. 409 VERDICT_PENDING until the scan has a verdict.',
        tags: ['scans', 'interoperability'],
        security: [{ bearer: [] }],
        params: Type.Object({ scanId: Type.String({ maxLength: 128 }) }),
        response: { 200: ThreatDetectionReport, ...errorResponses },
      },
    },
    async (req) => {
      const scan = await scans.get(req.params.scanId);
      // A gateway sees its own scans only; another site's scan is reported as absent.
      const foreign = req.principal!.role === 'gateway' && scan?.gatewayId !== req.principal!.id;
      if (!scan || foreign) throw notFound('SCAN_NOT_FOUND', `no scan ${req.params.scanId}`);
      const latest = (await verdicts.forScan(scan.scanId)).at(-1);
      if (!latest) throw new ApiError(409, 'VERDICT_PENDING', `scan ${scan.scanId} has no verdict yet (status ${scan.status})`);
      return toTdr(scan, latest, await primaryDicomAttributes(opts.objects, scan));
    },
  );
};

export default tdrRoutes;
