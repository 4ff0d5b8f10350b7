// Scans with real detections for the browser tests: a synthetic dual-energy parcel from the generator
// (models/synth) with planted items, and a detector that reports exactly those items where the generator
// put them (the generator's ground truth, so the test does not depend on a model still being trained).
import type { Page } from 'playwright-core';
import { makeSample, png16Of, type Sample } from '../../models/synth/index.js';
import type { ModelCard, ModelRuntime } from '../../models/runtime/types.js';
import type { Sql } from '../../storage/db/sql.js';
import { pollUntil, pushScan } from '../helpers/push.js';

/** Parcel 2 of seed 20261123 at full size: ammunition (prohibited), a toy and scissors (restricted). */
export function parcelWithAmmunition(): Sample {
  return makeSample('parcel', 20261123, 2, { threatRate: 1, fullSize: true });
}

/** Reports the sample's planted items (score 0.91) for parcels; containers have no model (they go to review). */
export function groundTruthDetector(sample: Sample): ModelRuntime {
  return {
    modelsFor: (m) => (m === 'parcel-ct' || m === 'parcel-xray' ? [{ name: 'synth-ground-truth', version: '1.0.0', task: 'detect' } as ModelCard] : []),
    infer: async (_m, rendering) => {
      const k = rendering.width / sample.width;
      return [{
        model: 'synth-ground-truth',
        version: '1.0.0',
        task: 'detect',
        detections: sample.boxes.map((b) => ({ label: b.label, score: 0.91, box: b.box.map((v) => Math.round(v * k * 10) / 10) as [number, number, number, number] })),
      }];
    },
    close: async () => {},
  };
}

export async function pushParcel(url: string, key: string, db: Sql, scanId: string, waybill: string, sample: Sample): Promise<void> {
  const [high, low] = await Promise.all([png16Of(sample.high, sample.width, sample.height), png16Of(sample.low, sample.width, sample.height)]);
  const res = await pushScan(url, {
    key,
    metadata: { scanId, scannerId: 'CT-TEST-07', modality: 'parcel-ct', waybill, capturedAt: '2026-11-23T08:00:00Z' },
    images: { high, low },
  });
  if (res.status !== 202) throw new Error(`push ${scanId}: ${res.status} ${JSON.stringify(res.body)}`);
  const routed = await pollUntil(() => db.query<{ routed_at: unknown }>('SELECT routed_at FROM scans WHERE scan_id = $1', [scanId]), (r) => Boolean(r.rows[0]?.routed_at), 30_000, 50);
  if (!routed.rows[0]?.routed_at) throw new Error(`scan ${scanId} was not routed`);
}

/** The viewer's state as the review screen exposes it (window.__viewer). */
export interface ViewState { scale: number; cx: number; cy: number; width: number; height: number }
export function viewState(page: Page): Promise<ViewState> {
  return page.evaluate(() => (window as unknown as { __viewer: { view: ViewState } }).__viewer.view);
}

/** Logs what goes wrong in the page, so a failing assertion comes with its cause. */
export function watchPage(page: Page): Page {
  page.on('pageerror', (err) => console.error('page error:', err.message));
  page.on('console', (m) => { if (m.type() === 'error') console.error('console:', m.text(), m.location().url); });
  page.on('response', (r) => {
    if (r.status() >= 400) void r.text().then((t) => console.error('http', r.status(), r.request().method(), r.url(), t.slice(0, 300)), () => {});
  });
  return page;
}
