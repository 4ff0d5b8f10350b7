// The labelled-stream cache of `npm run calibrate` and the assessment benchmark (scripts/calibrate.ts) is keyed by
// the cards a run depends on: which verifier that is follows the runtime's choice, so a new dual-energy verifier
// leaves the renderings-only outputs cached and a new grey one the raw-pair outputs.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelCard } from '../../models/runtime/types.js';
import { GENERATOR_VERSION, makeSample, writeSample } from '../../models/synth/index.js';
import { cardsUsed, loadStream } from '../../scripts/calibrate.js';

const registry = async (): Promise<ModelCard[]> => {
  const names = (await readdir('models/registry')).filter((n) => n.endsWith('.card.json')).sort();
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(join('models/registry', n), 'utf8')) as ModelCard));
};

describe('stream cache key', () => {
  it('counts the dual-energy verifier with a material channel and the grey one without', async () => {
    const containers = (await registry()).filter((c) => c.modality === 'container-xray');
    const names = (material: boolean) => cardsUsed(containers, material).map((c) => c.name);
    expect(names(true)).toContain('container-threat-verify-de');
    expect(names(true)).not.toContain('container-threat-verify');
    expect(names(false)).toContain('container-threat-verify');
    expect(names(false)).not.toContain('container-threat-verify-de');
    // every model that is not a verifier counts either way
    for (const c of containers.filter((c) => c.task !== 'verify')) expect(names(true).includes(c.name) && names(false).includes(c.name)).toBe(true);
  });

  it('counts the grey verifier with a material channel when no dual-energy one verifies that grid', async () => {
    const greyOnly = (await registry()).filter((c) => c.modality === 'container-xray' && c.name !== 'container-threat-verify-de');
    expect(cardsUsed(greyOnly, true).map((c) => c.name)).toContain('container-threat-verify');
  });
});

describe('stream cache with a limit', () => {
  it('a run over the first scans does not stand in for the whole stream afterwards', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tw-stream-cache-'));
    try {
      for (let i = 0; i < 3; i++) await writeSample(dir, makeSample('parcel', 41, i), { raw: false });
      const opts = { registryDir: 'models/registry', misdeclaredRate: 0, dishonestRate: 0, seed: 1 };
      const first = await loadStream(dir, { ...opts, limit: 2 });
      expect(first).toHaveLength(2);
      const all = await loadStream(dir, opts);
      expect(all).toHaveLength(3);
      // every scan was read by the parcel models (the detector at least), the third one too
      for (const s of all) expect(s.input.modelOutputs.map((o) => o.model)).toContain('parcel-item-det');
      expect((await readdir(dir)).filter((f) => f.startsWith('outputs.'))).toHaveLength(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('stream generator stamp', () => {
  it('refuses a synthetic folder another generator version wrote, and reads one this version wrote or one without a stamp', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tw-stream-stamp-'));
    try {
      await writeSample(dir, makeSample('parcel', 43, 0), { raw: false });
      const opts = { registryDir: 'models/registry', misdeclaredRate: 0, dishonestRate: 0, seed: 1 };
      // a site's own labelled scans carry no stamp
      expect(await loadStream(dir, opts)).toHaveLength(1);
      await writeFile(join(dir, 'dataset.json'), JSON.stringify({ generator: 'tidewatch-synth/1.0.0', kind: 'parcel' }));
      await expect(loadStream(dir, opts)).rejects.toThrow(`written by tidewatch-synth/1.0.0, this checkout's generator is ${GENERATOR_VERSION}`);
      // the benchmark's stamp is read before dataset.json
      await writeFile(join(dir, 'generator.txt'), `${GENERATOR_VERSION}\n`);
      expect(await loadStream(dir, opts)).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
