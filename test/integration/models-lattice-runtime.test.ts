// The lattice verifiers through the model runtime (models/runtime/index.ts → lattice.ts): a scan sent as a raw
// dual-energy pair, or as its rendering alone, at a scanner's 6 mm/px, the grid's proposals and the dense sweep
// scored from one run over the whole scan. The golden scan of test/fixtures/models/golden.json carries a planted
// firearm and a false wall.
import { describe, expect, it } from 'vitest';
import { createModelRuntime, renderContainerMaterial } from '../../models/runtime/index.js';
import { toChannels } from '../../models/runtime/letterbox.js';
import { makeSample } from '../../models/synth/index.js';

const REG = 'models/registry';

describe('lattice verifier in the runtime', () => {
  it('confirms the planted firearm and the false wall of a raw-pair container, from one run a scan', async () => {
    const batches: Array<[string, number]> = [];
    const rt = await createModelRuntime({ registryDir: REG, onBatch: (model, size) => void batches.push([model, size]) });
    try {
      const s = makeSample('container', 424242, 1, { threatRate: 1, mmpp: 6 });
      const material = renderContainerMaterial(s.high, s.low, s.width, s.height, 16);
      const grid = (await rt.infer('container-xray', s.rendering, { material })).find((o) => o.model === 'container-threat-grid')!;
      expect(grid.verifiedBy).toEqual({ model: 'container-threat-verify-de', version: '2.2.0' });
      // confidently the two planted threats (a weak box may sit at its card threshold: the policy's decide)
      const sure = new Set(grid.detections!.filter((d) => d.score > 0.5).map((d) => d.label));
      expect(sure).toEqual(new Set(['firearm', 'hidden-compartment']));
      const firearm = grid.detections!.find((d) => d.label === 'firearm')!;
      // where the golden windowed verifier put it (rendering px): x 525–832, y 107–303
      expect(firearm.box[0]).toBeLessThan(832);
      expect(firearm.box[2]).toBeGreaterThan(525);
      // the verifier ran once for the scan (the grey windowed verifier did not run: the raw pair's material was given)
      expect(batches.filter(([m]) => m === 'container-threat-verify-de')).toEqual([['container-threat-verify-de', 1]]);
      expect(batches.some(([m]) => m === 'container-threat-verify')).toBe(false);
    } finally {
      await rt.close();
    }
  });

  it('confirms them from the rendering alone with the grey lattice verifier, sent as grey or as RGB alike', async () => {
    const batches: Array<[string, number]> = [];
    const rt = await createModelRuntime({ registryDir: REG, onBatch: (model, size) => void batches.push([model, size]) });
    try {
      const s = makeSample('container', 424242, 1, { threatRate: 1, mmpp: 6 });
      const grid = (await rt.infer('container-xray', s.rendering)).find((o) => o.model === 'container-threat-grid')!;
      const card = rt.modelsFor('container-xray').find((c) => c.name === 'container-threat-verify')!;
      expect(card.output.layout).toBe('window-map');
      expect(grid.verifiedBy).toEqual({ model: 'container-threat-verify', version: card.version });
      const sure = new Set(grid.detections!.filter((d) => d.score > 0.5).map((d) => d.label));
      expect(sure).toEqual(new Set(['firearm', 'hidden-compartment']));
      const firearm = grid.detections!.find((d) => d.label === 'firearm')!;
      expect(firearm.box[0]).toBeLessThan(832);
      expect(firearm.box[2]).toBeGreaterThan(525);
      // a grey PNG decoded as three equal channels is the same scan to the verifier
      const rgb = (await rt.infer('container-xray', toChannels(s.rendering, 3))).find((o) => o.model === 'container-threat-grid')!;
      expect(rgb.detections).toEqual(grid.detections);
      // one run a scan each time; the dual-energy verifier did not run (no material was given)
      expect(batches.filter(([m]) => m === 'container-threat-verify')).toEqual([['container-threat-verify', 1], ['container-threat-verify', 1]]);
      expect(batches.some(([m]) => m === 'container-threat-verify-de')).toBe(false);
    } finally {
      await rt.close();
    }
  });
});
