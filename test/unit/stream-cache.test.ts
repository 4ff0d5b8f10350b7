// The labelled-stream cache of `npm run calibrate` and the assessment benchmark (scripts/calibrate.ts) is keyed by
// the cards a run depends on: which verifier that is follows the runtime's choice, so a new dual-energy verifier
// leaves the renderings-only outputs cached and a new grey one the raw-pair outputs.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelCard } from '../../models/runtime/types.js';
import { cardsUsed } from '../../scripts/calibrate.js';

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
