// Renderings and resampling are what the models were trained on: the faster loops must give the same bytes
// as the plain ones they replaced. The digest was taken from the plain implementations (commit 3c4d2a1).
import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { makeSample } from '../../models/synth/index.js';
import { renderContainerGrey, renderPseudoColour } from '../../models/runtime/render.js';
import { letterbox, resize } from '../../models/runtime/letterbox.js';

it('pseudo-colour rendering, letterbox and resize give the bytes of the reference implementation', () => {
  const h = createHash('sha256');
  // Twice over: the second pass runs on memoised per-level tables.
  for (const pass of [0, 1]) {
    const pass0 = createHash('sha256');
    for (let i = 0; i < 6; i++) {
      const s = makeSample('parcel', 777, i);
      const r = renderPseudoColour(s.high, s.low, s.width, s.height, 16);
      const parts = [r.data, letterbox(r, 256, 256).image.data, resize(r, 97, 301).data, resize(renderContainerGrey(s.high, s.width, s.height, 16), 384, 128).data];
      for (const p of parts) (pass === 0 ? h : pass0).update(p);
    }
    if (pass === 1) expect(pass0.digest('hex')).toBe('b08d069e3183f98782e511f1881b5222a2b39e1531fd431c1063b53714ff9e8c');
  }
  expect(h.digest('hex')).toBe('b08d069e3183f98782e511f1881b5222a2b39e1531fd431c1063b53714ff9e8c');
});
