// The committed models: every card in models/registry loads (sha256 verified), stays under 20 MB, uses the
// shared label strings, and gives its stored golden output on fixed synthetic inputs (within tolerance).
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CARGO_CATEGORIES, CONTAINER_THREATS, PARCEL_ITEMS } from '../../domain/categories.js';
import { computeGolden, readGolden } from '../../models/eval/golden.js';
import { detectionSources, loadRegistry } from '../../models/runtime/registry.js';
import { thresholdsUnderModelFloors } from '../../domain/policy/policy.js';
import type { ModelOutput } from '../../models/runtime/types.js';
import { loadPolicy } from '../../pipeline/policy.js';

const REG = 'models/registry';

function close(a: ModelOutput, b: ModelOutput): void {
  expect(a.model).toBe(b.model);
  expect(a.version).toBe(b.version);
  for (const [l, v] of Object.entries(b.scores ?? {})) expect(a.scores?.[l]).toBeCloseTo(v, 3);
  expect(a.embedding?.length).toBe(b.embedding?.length);
  (b.embedding ?? []).forEach((v, i) => expect(a.embedding![i]).toBeCloseTo(v, 4));
  // a detection near a threshold may appear or vanish with float noise: compare the confident ones
  const sure = (o: ModelOutput) => (o.detections ?? []).filter((d) => d.score > 0.05 + (b.detections ?? []).reduce((m, x) => Math.min(m, x.score), 1));
  const da = sure(a), db = sure(b);
  expect(da.map((d) => d.label)).toEqual(db.map((d) => d.label));
  da.forEach((d, i) => {
    const e = db[i]!;
    expect(d.score).toBeCloseTo(e.score, 3);
    d.box.forEach((v, k) => expect(Math.abs(v - e.box[k]!)).toBeLessThanOrEqual(0.5 + 1e-3 * Math.abs(e.box[k]!)));
  });
}

describe('committed models', () => {
  it('load with verified sha256, < 20 MB, labels from domain/categories', async () => {
    const models = await loadRegistry(REG);
    expect(models.length).toBeGreaterThan(0);
    for (const m of models) {
      expect((await stat(join(REG, m.card.file))).size).toBeLessThan(20 * 1024 * 1024);
      // an embedder's labels are the kinds it was trained to separate: cargo kinds, or parcel items
      const container = m.card.modality === 'container-xray';
      const vocab: readonly string[] = m.card.task === 'classify' || (m.card.task === 'embed' && container) ? CARGO_CATEGORIES : container ? CONTAINER_THREATS : PARCEL_ITEMS;
      expect(m.card.labels).toEqual([...vocab]);
      expect(m.card.metrics).toBeDefined();
      expect(m.card.training).toBeDefined();
    }
  });

  it('give their golden outputs on fixed synthetic inputs', async () => {
    const [now, golden] = await Promise.all([computeGolden(REG), readGolden()]);
    expect(Object.keys(now).sort()).toEqual(Object.keys(golden).sort());
    for (const [name, rows] of Object.entries(golden)) {
      const got = now[name]!;
      expect(got.map((r) => r.input)).toEqual(rows.map((r) => r.input));
      rows.forEach((r, i) => close(got[i]!.output, r.output));
    }
  });

  it('each have thresholds of their own in the default policy when they are verifiers', async () => {
    // a verifier's fused scores are window probabilities, far below the label thresholds meant for detectors:
    // without its own, a committed verifier would let confirmed threats through
    const policy = await loadPolicy();
    const verifiers = (await loadRegistry(REG)).filter((m) => m.card.task === 'verify');
    expect(verifiers.map((m) => m.card.name).sort()).toEqual(['container-threat-verify', 'container-threat-verify-de']);
    for (const { card } of verifiers) expect(Object.keys(policy.security.modelThreatThresholds[card.name] ?? {}).sort()).toEqual([...card.labels].sort());
  });

  it('leave no threshold of the default policy under their own (one there would have no effect)', async () => {
    const cards = (await loadRegistry(REG)).map((m) => m.card);
    const sources = detectionSources(cards);
    // every verifier with the grid it confirms, and the parcel detector on its own
    expect(sources.map((s) => s.models.join('>')).sort()).toEqual(['container-threat-verify-de>container-threat-grid', 'container-threat-verify>container-threat-grid', 'parcel-item-det']);
    expect(sources.find((s) => s.models[0] === 'container-threat-verify-de')?.floor.cigarettes).toBe(cards.find((c) => c.name === 'container-threat-verify-de')?.thresholds.cigarettes);
    expect(thresholdsUnderModelFloors(await loadPolicy(), sources)).toEqual([]);
  });
});
