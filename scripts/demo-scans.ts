// Demo scans for `npm run demo`: synthetic dual-energy container and parcel scans from the generator,
// with the declarations a customs system would send: one faithful, one misdeclared, one never declared.
import { containerLines, HS_FOR_CATEGORY, HS_FOR_PARCEL_ITEM, parcelLines } from '../models/synth/declarations.js';
import { makeSample, png16Of, type Sample } from '../models/synth/index.js';

export interface DemoScan {
  metadata: Record<string, unknown>;
  images: { high: Buffer; low: Buffer };
  /** Declaration to send before the scan, or none (the scan then ends with DECLARATION_MISSING). */
  declaration?: Record<string, unknown>;
  story: string;
}

// Real-format container numbers with valid ISO 6346 check digits.
const CONTAINERS = ['CSQU3054383', 'MSKU9070323', 'TGHU8765436'];

async function pair(s: Sample) {
  return { high: await png16Of(s.high, s.width, s.height), low: await png16Of(s.low, s.width, s.height) };
}

export async function demoScans(runId: string): Promise<DemoScan[]> {
  const out: DemoScan[] = [];
  const enterprise = { id: 'DEMO-ENT-1', name: 'Demo Trading Co.', creditLevel: 'aeo-advanced' };
  for (let i = 0; i < CONTAINERS.length; i++) {
    // Clean loads (no planted threat) so the story is about declared vs seen.
    const s = makeSample('container', 20261123, i, { threatRate: 0, mmpp: 6 });
    const containerNo = CONTAINERS[i]!;
    const seen = s.categories ?? [];
    const faithful = containerLines(seen);
    const wrong = [{ ...HS_FOR_CATEGORY[seen.includes('tyres') ? 'textiles-cartons' : 'tyres']!, quantity: 500, unit: 'pcs', grossKg: 6000 }];
    const lines = i === 0 ? faithful : wrong;
    out.push({
      story: i === 0 ? `declared as seen (${seen.join(', ')})` : i === 1 ? `misdeclared: seen ${seen.join(', ')}, declared ${wrong[0]!.description}` : 'no declaration ever arrives',
      metadata: { scanId: `demo-${runId}-c${i}`, scannerId: 'H986-DEMO-01', modality: 'container-xray', containerNo, capturedAt: new Date().toISOString() },
      images: await pair(s),
      ...(i < 2 && {
        declaration: {
          declarationId: `DEMO-${runId}-C${i}`,
          containers: [{ containerNo, sealNo: `SEAL${i}${runId.slice(-6)}`, tareKg: 3800 }],
          lines: lines.length ? lines : [],
          enterprise,
          perishable: seen.includes('frozen-cartons') || seen.includes('fruit-veg'),
        },
      }),
    });
  }
  for (let i = 0; i < 2; i++) {
    const s = makeSample('parcel', 20261123, i, { threatRate: i === 1 ? 1 : 0 });
    const waybill = `SF${runId}${i}`.slice(0, 40);
    const lines = parcelLines(s.counts ?? {});
    out.push({
      story: i === 0 ? 'parcel declared as packed' : 'parcel with a prohibited or restricted item',
      metadata: { scanId: `demo-${runId}-p${i}`, scannerId: 'CT-DEMO-07', modality: 'parcel-ct', waybill, capturedAt: new Date().toISOString() },
      images: await pair(s),
      declaration: {
        declarationId: `DEMO-${runId}-P${i}`,
        waybills: [waybill],
        lines: lines.length ? lines : [{ ...HS_FOR_PARCEL_ITEM.clothes!, quantity: 1, unit: 'pcs', grossKg: 0.3 }],
        enterprise: { id: 'DEMO-ENT-2', creditLevel: 'ordinary' },
      },
    });
  }
  return out;
}
