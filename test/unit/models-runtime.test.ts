// Runtime behaviour: YOLOv8 decode and class-wise NMS on hand-made tensors, letterbox maths, resampling,
// card validation, sha256 refusal, micro-batching, and inference through tiny fixture models.
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModelRuntime, prepare } from '../../models/runtime/index.js';
import { MicroBatcher } from '../../models/runtime/batcher.js';
import { SessionPool } from '../../models/runtime/session.js';
import { letterbox, placement, resize, toTensor, unplaceBox } from '../../models/runtime/letterbox.js';
import { ModelCardError, validateCard } from '../../models/runtime/registry.js';
import type { ModelCard, Rendering } from '../../models/runtime/types.js';
import { decodeYolo, iou, nms } from '../../models/runtime/yolo.js';
import { decodeGrid } from '../../models/runtime/grid.js';

const FIX = 'test/fixtures/models/tiny';

function grey(width: number, height: number, v: number): Rendering {
  return { width, height, channels: 1, data: new Uint8Array(width * height).fill(v) };
}

describe('decodeYolo', () => {
  // [1, 4 + 2, 3]: rows cx, cy, w, h, score(a), score(b); anchors are columns
  const t = Float32Array.from([10, 11, 24, 10, 10, 24, 8, 8, 6, 8, 8, 6, 0.9, 0.8, 0.1, 0.05, 0.1, 0.7]);
  it('turns centre-xywh columns into corner boxes with the best class per anchor', () => {
    const d = decodeYolo(t, [1, 6, 3], 0, [0.5, 0.5]);
    expect(d).toEqual([
      { cls: 0, score: expect.closeTo(0.9, 6), box: [6, 6, 14, 14] },
      { cls: 0, score: expect.closeTo(0.8, 6), box: [7, 6, 15, 14] },
      { cls: 1, score: expect.closeTo(0.7, 6), box: [21, 21, 27, 27] },
    ]);
  });
  it('applies per-class thresholds', () => {
    expect(decodeYolo(t, [1, 6, 3], 0, [0.85, 0.75]).map((d) => d.cls)).toEqual([0]);
  });
  it('reads the n-th image of a batch', () => {
    const two = new Float32Array(36);
    two.set(t, 18);
    expect(decodeYolo(two, [2, 6, 3], 0, [0.5, 0.5])).toEqual([]);
    expect(decodeYolo(two, [2, 6, 3], 1, [0.5, 0.5])).toHaveLength(3);
  });
  it('rejects a tensor that is not [N, 4 + C, A]', () => {
    expect(() => decodeYolo(t, [6, 3], 0, [0.5])).toThrow(/rank 3/);
    expect(() => decodeYolo(t, [1, 6, 3], 0, [0.5])).toThrow(/thresholds/);
  });
});

describe('decodeGrid', () => {
  const logit = (p: number) => Math.log(p / (1 - p));
  // 1 image, 2 classes, a 3 × 4 grid, all cells "nothing" unless set
  const grid = (set: Array<[number, number, number, number]>) => {
    const d = new Float32Array(2 * 3 * 4).fill(logit(0.01));
    for (const [c, y, x, p] of set) d[c * 12 + y * 4 + x] = logit(p);
    return d;
  };
  it('joins touching cells of a class into one box in input pixels, scored by its strongest cell', () => {
    const out = decodeGrid(grid([[0, 0, 1, 0.6], [0, 1, 2, 0.9], [1, 2, 0, 0.7]]), [1, 2, 3, 4], 0, [0.5, 0.5], 16);
    expect(out).toHaveLength(2);
    expect(out[0]!.cls).toBe(0);
    expect(out[0]!.score).toBeCloseTo(0.9, 5);
    expect(out[0]!.box).toEqual([16, 0, 48, 32]);
    expect(out[1]!.cls).toBe(1);
    expect(out[1]!.box).toEqual([0, 32, 16, 48]);
  });
  it('keeps separate regions apart and applies per-class thresholds', () => {
    const d = grid([[0, 0, 0, 0.6], [0, 2, 3, 0.6], [1, 1, 1, 0.6]]);
    expect(decodeGrid(d, [1, 2, 3, 4], 0, [0.5, 0.7], 16).map((r) => r.cls)).toEqual([0, 0]);
  });
  it('rejects a tensor that is not [N, C, GH, GW] or thresholds that do not match', () => {
    expect(() => decodeGrid(new Float32Array(12), [1, 12], 0, [0.5], 16)).toThrow(/rank 4/);
    expect(() => decodeGrid(new Float32Array(24), [1, 2, 3, 4], 0, [0.5], 16)).toThrow(/thresholds/);
  });
});

describe('nms', () => {
  it('suppresses overlapping boxes of the same class only', () => {
    const dets = [
      { cls: 0, score: 0.8, box: [7, 6, 15, 14] as [number, number, number, number] },
      { cls: 0, score: 0.9, box: [6, 6, 14, 14] as [number, number, number, number] },
      { cls: 1, score: 0.7, box: [6, 6, 14, 14] as [number, number, number, number] },
      { cls: 0, score: 0.6, box: [30, 30, 40, 40] as [number, number, number, number] },
    ];
    expect(iou(dets[0]!.box, dets[1]!.box)).toBeCloseTo(56 / 72, 6);
    const kept = nms(dets, 0.5);
    expect(kept.map((d) => [d.cls, d.score])).toEqual([[0, 0.9], [1, 0.7], [0, 0.6]]);
    expect(nms(dets, 0.8)).toHaveLength(4);
    expect(nms(dets, 0.5, 2)).toHaveLength(2);
  });
});

describe('letterbox', () => {
  it('keeps the aspect ratio and centres the image', () => {
    const p = placement(1000, 250, 384, 128, 'letterbox');
    expect(p).toEqual({ newW: 384, newH: 96, padX: 0, padY: 16, sx: 0.384, sy: 0.384 });
    const q = placement(300, 300, 384, 128, 'letterbox');
    expect([q.newW, q.newH, q.padX, q.padY]).toEqual([128, 128, 128, 0]);
    expect(placement(300, 300, 384, 128, 'stretch')).toMatchObject({ newW: 384, newH: 128, padX: 0, padY: 0 });
  });
  it('maps boxes back to source pixels', () => {
    const p = placement(1000, 250, 384, 128, 'letterbox');
    const b = unplaceBox([38.4, 16 + 9.6, 76.8, 16 + 19.2], p, 1000, 250);
    b.forEach((v, i) => expect(v).toBeCloseTo([100, 25, 200, 50][i]!, 6));
    expect(unplaceBox([-10, 0, 500, 200], p, 1000, 250)).toEqual([0, 0, 1000, 250]);
  });
  it('pads with the pad value and area-averages when shrinking', () => {
    const img: Rendering = { width: 4, height: 1, channels: 1, data: Uint8Array.from([0, 100, 200, 255]) };
    expect(Array.from(resize(img, 2, 1).data)).toEqual([50, 228]);
    const lb = letterbox(img, 2, 3, 'letterbox', 7);
    expect(Array.from(lb.image.data)).toEqual([7, 7, 50, 228, 7, 7]);
  });
  it('resizes into a reused buffer byte for byte as into a new one', () => {
    const img: Rendering = { width: 5, height: 3, channels: 2, data: Uint8Array.from({ length: 30 }, (_, i) => (i * 37) % 256) };
    const buf = new Uint8Array(64).fill(99);
    for (const [w, h] of [[3, 2], [5, 3], [7, 4]] as const) {
      expect(Array.from(resize(img, w, h, buf).data)).toEqual(Array.from(resize(img, w, h).data));
      expect(Array.from(letterbox(img, w, h, 'stretch', 0, buf).image.data)).toEqual(Array.from(letterbox(img, w, h, 'stretch').image.data));
    }
    expect(() => resize(img, 8, 5, buf)).toThrow(/buffer of 64 bytes for 8×5×2/);
  });
  it('normalises into planar CHW', () => {
    const rgb: Rendering = { width: 2, height: 1, channels: 3, data: Uint8Array.from([255, 0, 51, 0, 255, 102]) };
    const t = toTensor(rgb, [0.5, 0.5, 0], [0.5, 0.5, 0.2]);
    expect(Array.from(t).map((v) => Math.round(v * 1000) / 1000)).toEqual([1, -1, -1, 1, 1, 2]);
  });
});

describe('model cards', () => {
  it('names every missing or invalid field', async () => {
    const card = JSON.parse(await readFile(join(FIX, 'tiny-cls.card.json'), 'utf8')) as Record<string, unknown>;
    expect(validateCard(card).name).toBe('tiny-cls');
    const { sha256: _s, labels: _l, ...bad } = card;
    expect(() => validateCard(bad)).toThrow(ModelCardError);
    expect(() => validateCard(bad)).toThrow(/sha256.*labels/s);
    expect(() => validateCard({ ...card, modality: 'ct-scan' })).toThrow(/modality/);
    expect(() => validateCard({ ...card, task: 'detect' })).toThrow(/yolov8/);
    expect(() => validateCard({ ...card, thresholds: { bright: 0.5 } })).toThrow(/thresholds\.dark/);
  });

  it('refuses an .onnx whose sha256 does not match its card', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tw-reg-'));
    await copyFile(join(FIX, 'tiny-cls.onnx'), join(dir, 'tiny-cls.onnx'));
    const card = JSON.parse(await readFile(join(FIX, 'tiny-cls.card.json'), 'utf8')) as ModelCard;
    await writeFile(join(dir, 'tiny-cls.card.json'), JSON.stringify({ ...card, sha256: 'a'.repeat(64) }));
    await expect(createModelRuntime({ registryDir: dir })).rejects.toThrow(/sha256 .* does not match its card/);
  });

  it('gives no models for a missing registry (the pipeline then reports MODEL_UNAVAILABLE)', async () => {
    const rt = await createModelRuntime({ registryDir: join(tmpdir(), 'tw-no-such-registry') });
    expect(rt.modelsFor('container-xray')).toEqual([]);
    expect(await rt.infer('container-xray', grey(4, 4, 0))).toEqual([]);
    await rt.close();
  });
});

describe('MicroBatcher', () => {
  it('runs concurrent submissions as one batch, at most maxBatch, results in order', async () => {
    const seen: number[][] = [];
    const b = new MicroBatcher<number, number>(async (xs) => { seen.push(xs); return xs.map((x) => x * 10); }, 4, 20);
    const out = await Promise.all([1, 2, 3, 4, 5].map((x) => b.submit(x)));
    expect(out).toEqual([10, 20, 30, 40, 50]);
    expect(seen).toEqual([[1, 2, 3, 4], [5]]);
  });
  it('while a batch runs, what is submitted waits and goes as the next batch, not as many small ones', async () => {
    const seen: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new MicroBatcher<number, number>(async (xs) => {
      seen.push(xs);
      if (seen.length === 1) await gate;
      return xs.map((x) => x + 1);
    }, 8, 1);
    const first = b.submit(0);
    await new Promise((r) => setTimeout(r, 20)); // the first batch (of one) is running
    // submitted several timer periods apart while it runs: one batch afterwards
    const later: Array<Promise<number>> = [];
    for (let i = 1; i <= 5; i++) {
      later.push(b.submit(i));
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(seen).toEqual([[0]]);
    release();
    expect(await first).toBe(1);
    expect(await Promise.all(later)).toEqual([2, 3, 4, 5, 6]);
    expect(seen).toEqual([[0], [1, 2, 3, 4, 5]]);
    await b.drain();
    expect(b.batchSizes).toEqual([1, 5]);
  });
  it('flushes a lone item after maxWaitMs and propagates errors to every item of the batch', async () => {
    const b = new MicroBatcher<number, number>(async () => { throw new Error('boom'); }, 8, 1);
    await expect(Promise.all([b.submit(1), b.submit(2)])).rejects.toThrow('boom');
    expect(b.batchSizes).toEqual([2]);
  });
});

describe('runtime on fixture models', () => {
  it('classifies and detects, batching concurrent calls, boxes in rendering pixels', async () => {
    const rt = await createModelRuntime({ registryDir: FIX, maxBatch: 8, maxWaitMs: 20 });
    expect(rt.modelsFor('container-xray').map((c) => c.name)).toEqual(['tiny-cls', 'tiny-det']);
    expect(rt.modelsFor('parcel-ct')).toEqual([]);
    const [a, b] = await Promise.all([rt.infer('container-xray', grey(64, 64, 255)), rt.infer('container-xray', grey(64, 64, 0))]);
    const clsA = a!.find((o) => o.model === 'tiny-cls')!;
    expect(clsA.scores!.bright).toBeCloseTo(1 / (1 + Math.exp(-1)), 5);
    expect(b!.find((o) => o.model === 'tiny-cls')!.scores!.bright).toBeCloseTo(0.5, 5);
    const det = a!.find((o) => o.model === 'tiny-det')!;
    // input 32×32 ← rendering 64×64 (scale 0.5): boxes double; the 0.8 box is suppressed by NMS
    expect(det.detections!.map((d) => [d.label, Math.round(d.score * 10) / 10, d.box])).toEqual([
      ['a', 0.9, [12, 12, 28, 28]],
      ['b', 0.7, [42, 42, 54, 54]],
    ]);
    await rt.close();
  });

  it('prepares letterboxed tensors as the card says', async () => {
    const card = validateCard(JSON.parse(await readFile(join(FIX, 'tiny-cls.card.json'), 'utf8')));
    const p = prepare(card, grey(16, 4, 255));
    // 16×4 → 8×2 centred in 8×8 with pad 0: rows 3 and 4 are the image
    expect(Array.from(p.tensor.subarray(0, 8))).toEqual(new Array(8).fill(0));
    expect(Array.from(p.tensor.subarray(24, 40))).toEqual(new Array(16).fill(1));
    expect(p.place).toMatchObject({ newW: 8, newH: 2, padX: 0, padY: 3 });
  });

  it('gives the same outputs with each session in a worker thread', async () => {
    const inputs = [grey(64, 64, 255), grey(64, 64, 0), grey(48, 80, 128)];
    const here = await createModelRuntime({ registryDir: FIX, maxBatch: 8, maxWaitMs: 1 });
    const off = await createModelRuntime({ registryDir: FIX, maxBatch: 8, maxWaitMs: 1, offThread: true });
    try {
      const a = await Promise.all(inputs.map((r) => here.infer('container-xray', r)));
      const b = await Promise.all(inputs.map((r) => off.infer('container-xray', r)));
      expect(b).toEqual(a);
      // The same rendering object is not consumed: running it again off the thread gives the same again.
      expect(await off.infer('container-xray', inputs[0]!)).toEqual(a[0]);
    } finally {
      await here.close();
      await off.close();
    }
  });
});

describe('session pool off the thread', () => {
  const offThreadPool = async () => SessionPool.create(await readFile(join(FIX, 'tiny-cls.onnx')), { intraOpNumThreads: 1, poolSize: 1, offThread: true });

  it('reports a failed run as an error and keeps serving the next run', async () => {
    const pool = await offThreadPool();
    try {
      const input = pool.inputNames[0]!;
      const output = pool.outputNames[0]!;
      expect(input).toBeTruthy();
      await expect(pool.run(input, new Float32Array(5), [1, 1, 1, 5], output)).rejects.toThrow(/./);
      await expect(pool.run(input, new Float32Array(64), [1, 1, 8, 8], 'no-such-output')).rejects.toThrow(/no output named no-such-output/);
      const ok = await pool.run(input, new Float32Array(64).fill(1), [1, 1, 8, 8], output);
      expect(ok.dims[0]).toBe(1);
      expect(ok.data.length).toBeGreaterThan(0);
    } finally {
      await pool.close();
    }
    await expect(pool.run('x', new Float32Array(1), [1], 'y')).rejects.toThrow();
  });

  it('a crashed inference thread settles its run in flight and the next run starts a new thread', async () => {
    const pool = await offThreadPool();
    try {
      const input = pool.inputNames[0]!;
      const output = pool.outputNames[0]!;
      const inFlight = pool.run(input, new Float32Array(64).fill(1), [1, 1, 8, 8], output).then(
        () => 'done',
        (e: Error) => e.message,
      );
      await pool.crashThreadsForTest();
      // Either it finished before the thread died or it failed with the thread: it never hangs.
      expect(await inFlight).toMatch(/^(done|inference thread exited.*)$/);
      const again = await pool.run(input, new Float32Array(64).fill(1), [1, 1, 8, 8], output);
      expect(again.dims[0]).toBe(1);
    } finally {
      await pool.close();
    }
  });
});
