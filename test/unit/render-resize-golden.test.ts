// Renderings and resampling are what the models were trained on: the faster loops must give the same bytes
// as the plain ones they replaced. The digest was taken from the plain implementations (commit 3c4d2a1).
import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { makeSample } from '../../models/synth/index.js';
import { DEEP_WINDOW, DEFAULT_GREY_WINDOW, greyLevel, greyTableRuns, renderContainerGrey, renderPseudoColour } from '../../models/runtime/render.js';
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

it('grey tables built run by run hold the level of every count, for the default window and the deep plane\'s per-scan air levels', () => {
  const windows = [
    { top: 65535, air: 65535, ...DEFAULT_GREY_WINDOW },
    { top: 4095, air: 4095, ...DEFAULT_GREY_WINDOW },
    { top: 255, air: 255, aMax: 6, aMin: 0, gamma: 0.8 },
    // the deep plane: each scan's own air (its 99.5th percentile), anywhere from a dim source to full scale
    ...[1, 37, 900, 12_345, 40_001.5, 61_234, 65_535].map((air) => ({ top: 65535, air, ...DEEP_WINDOW })),
    { top: 65535, air: 50_000, aMax: 4, aMin: 1, gamma: 2.2 },
  ];
  for (const w of windows) {
    const level = greyLevel(w.air, w.aMax, w.aMin, w.gamma);
    const lut = greyTableRuns(w.top, level);
    const direct = Uint8Array.from({ length: w.top + 1 }, (_, v) => level(v));
    expect(lut.length).toBe(w.top + 1);
    const firstDiff = lut.findIndex((g, v) => g !== direct[v]);
    expect(firstDiff, `window ${JSON.stringify(w)}`).toBe(-1);
  }
  // the deep window spans many levels: the runs are not one flat table
  expect(new Set(greyTableRuns(65535, greyLevel(61_234, DEEP_WINDOW.aMax, DEEP_WINDOW.aMin, DEEP_WINDOW.gamma))).size).toBeGreaterThan(200);
});
