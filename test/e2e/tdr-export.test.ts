// GET /v1/scans/:id/tdr: the latest verdict as a DICOS-style Threat Detection Report, with threat boxes in
// pixels and, for a DICOM image with pixel spacing, in millimetres; roles and foreign scans enforced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelCard, ModelRuntime } from '../../models/runtime/types.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { verdictsRepo } from '../../storage/repos/verdicts.js';
import { dicomFile } from '../fixtures/dicom.js';
import { png16 } from '../helpers/images.js';
import { getJson, pollUntil, pushScan } from '../helpers/push.js';
import { startStack, type TestStack } from '../helpers/stack.js';

// A detector that sees a firearm at a fixed place in every container image.
const firearmDetector: ModelRuntime = {
  modelsFor: (modality) => (modality === 'container-xray' ? [{ name: 'fake-det', version: '1.0.0', task: 'detect' } as ModelCard] : []),
  infer: async () => [{ model: 'fake-det', version: '1.0.0', task: 'detect', detections: [{ label: 'firearm', score: 0.934, box: [10, 20, 50, 40] }] }],
  close: async () => {},
};

let stack: TestStack;
let riskControlKey: string;
let otherGatewayKey: string;
let declarationSourceKey: string;
beforeAll(async () => {
  stack = await startStack({ database: 'pglite', runtime: firearmDetector });
  const clients = gatewaysRepo(stack.db.db);
  riskControlKey = (await clients.add('tdr-risk', 'risk-control')).key;
  otherGatewayKey = (await clients.add('tdr-other-site', 'gateway')).key;
  declarationSourceKey = (await clients.add('tdr-decl', 'declaration-source')).key;
});
afterAll(async () => {
  await stack?.close();
});

const meta = (scanId: string) => ({ scanId, scannerId: 'H986-QD-03', modality: 'container-xray', containerNo: 'CSQU3054383', capturedAt: '2026-11-23T08:00:00Z' });
const cargo = (x: number, y: number) => (x > 20 && x < 100 && y > 10 && y < 50 ? 15000 : 60000);

async function pushAndWait(scanId: string, image: Buffer) {
  expect((await pushScan(stack.url, { key: stack.key, metadata: meta(scanId), images: { image } })).status).toBe(202);
  await pollUntil(() => getJson(stack.url, `/v1/scans/${scanId}`, stack.key), (r) => r.body.verdict !== null);
}

describe('GET /v1/scans/:scanId/tdr', () => {
  it('reports a machine alarm with the threat box in pixels and in mm from the DICOM pixel spacing', async () => {
    await pushAndWait('tdr-dcm', dicomFile({ width: 128, height: 64, frames: 2, pixelSpacingMm: [2.5, 2], pixel: cargo }));
    const res = await getJson(stack.url, '/v1/scans/tdr-dcm/tdr', riskControlKey);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.501.3',
      scanId: 'tdr-dcm',
      tdrType: 'MACHINE',
      alarmDecision: 'ALARM',
      decision: 'hold',
      algorithms: [{ name: 'fake-det', version: '1.0.0' }],
      image: { role: 'image', format: 'dicom', width: 128, height: 64, frames: 2, pixelSpacingMm: { row: 2.5, column: 2 } },
      totalThreatObjects: 1,
      threatObjects: [
        {
          id: 1,
          class: 'firearm',
          probability: 0.934,
          reasonCode: 'THREAT_DETECTED',
          layer: 'security',
          boundingBox: { pixels: { x1: 10, y1: 20, x2: 50, y2: 40 }, mm: { x1: 20, y1: 50, x2: 100, y2: 100 } },
        },
      ],
    });
  });

  it('has no mm box for a PNG, and becomes an OPERATOR report once a reviewer decides', async () => {
    await pushAndWait('tdr-png', await png16(128, 64, cargo));
    const machine = await getJson(stack.url, '/v1/scans/tdr-png/tdr', stack.key);
    expect(machine.status).toBe(200);
    expect((machine.body.threatObjects as Array<{ boundingBox: { mm: unknown } }>)[0]!.boundingBox.mm).toBeNull();

    await verdictsRepo(stack.db.db).append(
      { scanId: 'tdr-png', subject: { containerNo: 'CSQU3054383' }, decision: 'clear', reasons: [], policyVersion: 'test', models: [], source: 'reviewer', at: '2026-11-23T09:00:00.000Z' },
      'reviewer-1',
    );
    const operator = await getJson(stack.url, '/v1/scans/tdr-png/tdr', riskControlKey);
    expect(operator.body).toMatchObject({ tdrType: 'OPERATOR', alarmDecision: 'CLEAR', decision: 'clear', verdictSource: 'reviewer', totalThreatObjects: 0, threatObjects: [] });

    // A part of a long container that looks like an undeclared code is a full-height region of the image.
    await verdictsRepo(stack.db.db).append(
      {
        scanId: 'tdr-png', subject: { containerNo: 'CSQU3054383' }, decision: 'review', policyVersion: 'test', models: [], source: 'reviewer', at: '2026-11-23T09:05:00.000Z',
        reasons: [{ code: 'PART_LOOKS_LIKE_OTHER_CODE', layer: 'declaration', decision: 'review', detail: 'part looks like HS 7308900000',
          evidence: { scores: { '7308900000': 0.84, declared: 0.41 }, model: 'container-embed', version: '1.0.0', xRange: [30, 90] } }],
      },
      'reviewer-1',
    );
    const part = await getJson(stack.url, '/v1/scans/tdr-png/tdr', riskControlKey);
    expect(part.body).toMatchObject({
      alarmDecision: 'ALARM',
      totalThreatObjects: 1,
      threatObjects: [
        { id: 1, class: 'hs-7308900000', probability: 0.84, reasonCode: 'PART_LOOKS_LIKE_OTHER_CODE', layer: 'declaration', boundingBox: { pixels: { x1: 30, y1: 0, x2: 90, y2: 64 }, mm: null } },
      ],
    });
  });

  it('404 for another site, 403 for a declaration source, 401 without a key, 409 before the verdict', async () => {
    expect((await getJson(stack.url, '/v1/scans/tdr-dcm/tdr', otherGatewayKey)).body.code).toBe('SCAN_NOT_FOUND');
    expect((await getJson(stack.url, '/v1/scans/tdr-dcm/tdr', declarationSourceKey)).status).toBe(403);
    expect((await getJson(stack.url, '/v1/scans/tdr-dcm/tdr')).status).toBe(401);
    expect((await getJson(stack.url, '/v1/scans/nope/tdr', riskControlKey)).status).toBe(404);
    await stack.stopWorkers();
    try {
      expect((await pushScan(stack.url, { key: stack.key, metadata: meta('tdr-pending'), images: { image: await png16(32, 32, () => 40000) } })).status).toBe(202);
      const pending = await getJson(stack.url, '/v1/scans/tdr-pending/tdr', riskControlKey);
      expect([pending.status, pending.body.code]).toEqual([409, 'VERDICT_PENDING']);
    } finally {
      await stack.startWorkers();
    }
  });
});
