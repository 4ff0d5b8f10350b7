// The viewer's pixel processing (api/web/src/viewer/imaging.ts): what a reviewer sees on screen for given
// counts and settings.
import { describe, expect, it } from 'vitest';
import { autoWindow, enhanceEdges, materialTables, paintGrey, paintMaterial, windowLut } from '../../api/web/src/viewer/imaging.js';
import { MU } from '../../models/synth/physics.js';

const rgba = (n: number) => new Uint8ClampedArray(n * 4);

describe('window/level on 16-bit counts', () => {
  it('maps the window to black…white, clamps outside it, and invert swaps the ends', () => {
    const lut = windowLut({ window: 1000, level: 20_000, gamma: 1, invert: false }, 65536);
    expect([lut[0], lut[19_500], lut[20_000], lut[20_500], lut[65535]]).toEqual([0, 0, 128, 255, 255]);
    const inv = windowLut({ window: 1000, level: 20_000, gamma: 1, invert: true }, 65536);
    expect([inv[19_500], inv[20_500]]).toEqual([255, 0]);
  });

  it('gamma below 1 brightens mid-tones', () => {
    const flat = windowLut({ window: 1000, level: 500, gamma: 1, invert: false }, 65536);
    const bright = windowLut({ window: 1000, level: 500, gamma: 0.5, invert: false }, 65536);
    expect(bright[250]!).toBeGreaterThan(flat[250]! + 30);
  });

  it('starts from a window spanning the image’s own counts, not the full 16-bit range', () => {
    const values = Uint16Array.from({ length: 10_000 }, (_, i) => 12_000 + (i % 4000));
    const w = autoWindow(values, 65536);
    expect(w.level).toBeGreaterThan(13_000);
    expect(w.level).toBeLessThan(15_000);
    expect(w.window).toBeLessThan(4100);
  });
});

describe('dual-energy material colouring', () => {
  const tables = materialTables(60_000, 58_000);
  const lut = windowLut({ window: 65535, level: 32768, gamma: 1, invert: false }, 65536);
  const colourOf = (high: number, low: number) => {
    const out = rgba(1);
    paintMaterial(Uint16Array.of(high), Uint16Array.of(low), lut, tables, out);
    return [out[0]!, out[1]!, out[2]!];
  };

  it('paints organic matter orange, mixed green, metal blue, and air colourless', () => {
    const [r1, g1, b1] = colourOf(30_000, 22_000); // ratio ≈ 1.4
    expect(r1).toBeGreaterThan(g1!);
    expect(g1).toBeGreaterThan(b1!);
    const [r2, g2, b2] = colourOf(30_000, 14_000); // ratio ≈ 2.1 → towards green
    expect(g2).toBeGreaterThan(r2!);
    expect(g2).toBeGreaterThan(b2!);
    const [r3, g3, b3] = colourOf(30_000, 3_000); // ratio ≈ 4.1
    expect(b3).toBeGreaterThan(r3!);
    expect(b3).toBeGreaterThan(g3!);
    const air = lut[60_000]!;
    expect(colourOf(60_000, 58_000)).toEqual([air, air, air]); // no hue where nothing attenuates
  });
});

describe('container (MeV) material colouring', () => {
  // counts through 25 g/cm² of organic matter and of iron (the generator's MeV coefficients, NIST XCOM)
  const air = 60_000;
  const through = (mu: { high: number; low: number }, mass: number) => [Math.round(air * Math.exp(-mu.high * mass)), Math.round(air * Math.exp(-mu.low * mass))] as const;
  const colourOf = (regime: 'kv' | 'mev', [high, low]: readonly [number, number]) => {
    const out = rgba(1);
    paintMaterial(Uint16Array.of(high), Uint16Array.of(low), windowLut({ window: 65535, level: 32768, gamma: 1, invert: false }, 65536), materialTables(air, air, 65536, regime), out);
    return [out[0]!, out[1]!, out[2]!];
  };

  it('paints organic cargo orange and iron blue, where the parcel palette would paint both orange', () => {
    const organic = through(MU.mev.organic, 25), iron = through(MU.mev.metal, 25);
    const [or, og, ob] = colourOf('mev', organic);
    expect(or).toBeGreaterThan(ob! + 40);
    expect(or).toBeGreaterThan(og!);
    const [ir, , ib] = colourOf('mev', iron);
    expect(ib).toBeGreaterThan(ir! + 40);
    // the kV palette: every MeV ratio is under 1.6, so iron comes out as orange as the organic cargo
    const [kr, , kb] = colourOf('kv', iron);
    expect(kr).toBeGreaterThan(kb!);
  });
});

describe('greyscale and edge enhancement', () => {
  it('paints grey through the LUT and sharpens a step edge without touching flat areas', () => {
    const values = Uint16Array.from({ length: 8 * 3 }, (_, i) => (i % 8 < 4 ? 100 : 200));
    const out = rgba(values.length);
    paintGrey(values, Uint8Array.from({ length: 256 }, (_, v) => v), out);
    expect([out[0], out[4 * 7]]).toEqual([100, 200]);
    enhanceEdges(out, 8, 3, 1);
    expect(out[4 * 8 + 0]).toBe(100); // flat area unchanged
    expect(out[4 * (8 + 3)]).toBeLessThan(100); // dark side of the step darkens
    expect(out[4 * (8 + 4)]).toBeGreaterThan(200); // bright side brightens
  });
});
