// Evaluation CLI on fixture datasets whose answers are worked out by hand (tiny fixture models in
// test/fixtures/models/tiny: the detector always predicts 'a' at [12,12,28,28] (0.9) and 'b' at
// [42,42,54,54] (0.7) on a 64×64 image; the classifier's 'bright' logit is the mean pixel in [0,1]).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { CARGO_CATEGORIES } from '../../domain/categories.js';
import { labelMapper } from '../../models/eval/data.js';
import { evaluate } from '../../models/eval/evaluate.js';
import { averagePrecision, matchImage } from '../../models/eval/metrics.js';

const TINY = 'test/fixtures/models/tiny';
const EV = 'test/fixtures/models/eval';
const run = promisify(execFile);

describe('averagePrecision', () => {
  it('is the area under the interpolated PR curve, missed objects included', () => {
    expect(averagePrecision([{ score: 0.9, tp: true }, { score: 0.8, tp: false }, { score: 0.7, tp: true }], 2)).toBeCloseTo(0.5 + 0.5 * (2 / 3), 9);
    expect(averagePrecision([{ score: 0.9, tp: true }], 4)).toBeCloseTo(0.25, 9);
    expect(averagePrecision([], 0)).toBeNull();
  });
});

describe('matching predictions to ground truth', () => {
  const knife = { label: 'knife', box: [100, 40, 116, 42] as [number, number, number, number] };
  const cell = { label: 'knife', score: 0.9, box: [96, 32, 128, 48] as [number, number, number, number] };
  it('IoU 0.5 (box detectors) does not count a whole-cell region as finding a thin knife', () => {
    expect(matchImage([cell], [knife]).scored.map((p) => p.tp)).toEqual([false]);
  });
  it('centre rule (grid detectors): found when the centre lies in the region, once per ground-truth box, same class only', () => {
    const far = { ...cell, score: 0.5, box: [0, 0, 16, 16] as [number, number, number, number] };
    const twice = { ...cell, score: 0.8 };
    const gun = { ...cell, label: 'firearm', score: 0.95 };
    expect(matchImage([cell, far, twice, gun], [knife], { kind: 'centre' }).scored.map((p) => [p.label, p.score, p.tp])).toEqual([
      ['firearm', 0.95, false], ['knife', 0.9, true], ['knife', 0.8, false], ['knife', 0.5, false],
    ]);
  });
});

describe('label mapping', () => {
  it('maps names through the map, then identity, then HS codes for folders', () => {
    const m = labelMapper(CARGO_CATEGORIES, { grain: 'bulk-grain' }, true);
    expect(m.map('grain')).toBe('bulk-grain');
    expect(m.map('tyres')).toBe('tyres');
    expect(m.map('4011')).toBe('tyres');
    expect(m.map('8703239000')).toBe('vehicles');
    expect(m.map('99')).toBeUndefined(); // not-visible: nothing an image can confirm
    expect(m.map('widgets')).toBeUndefined();
    expect(Object.fromEntries(m.unmapped)).toEqual({ '99': 1, widgets: 1 });
  });
});

describe('eval on fixtures', () => {
  it('YOLO: per-class P/R, AP@0.5, mAP, clean-image false alarms, confusion', async () => {
    const rep = await evaluate({ modelPath: join(TINY, 'tiny-det.card.json'), dataDir: join(EV, 'yolo'), format: 'yolo', names: { x: 'a' } });
    if (!('mAP50' in rep)) throw new Error('expected a detection report');
    // a: one object found at 0.9 (img1), one false alarm at 0.9 on the clean img2 → P 0.5, R 1, AP 1
    expect(rep.perClass.a).toMatchObject({ support: 1, tp: 1, fp: 1, fn: 0, precision: 0.5, recall: 1, ap50: 1 });
    // b: the object at [0,0,10,10] is missed; both 'b' predictions are false alarms
    expect(rep.perClass.b).toMatchObject({ support: 1, tp: 0, fp: 2, fn: 1, precision: 0, recall: 0, ap50: 0 });
    expect(rep.mAP50).toBe(0.5);
    expect(rep.cleanImages).toBe(1);
    const at = (t: number) => rep.thresholdTable.find((r) => r.threshold === t)!;
    expect(at(0.5).falseAlarmsPerCleanImage).toBe(2);
    expect(at(0.8).falseAlarmsPerCleanImage).toBe(1);
    expect(at(0.95).perClass.a!.recall).toBe(0);
    expect(rep.confusion).toEqual({ rows: ['a', 'b', 'background'], cols: ['a', 'b', 'missed'], counts: [[1, 0, 0], [0, 0, 1], [1, 2, 0]] });
  });

  it('COCO gives the same answers as YOLO for the same labels', async () => {
    const rep = await evaluate({ modelPath: join(TINY, 'tiny-det.onnx'), dataDir: join(EV, 'coco'), format: 'coco' });
    if (!('mAP50' in rep)) throw new Error('expected a detection report');
    expect(rep.mAP50).toBe(0.5);
    expect(rep.perClass.a).toMatchObject({ tp: 1, fp: 1, ap50: 1 });
  });

  it('folders: top-1 accuracy, confusion matrix, threshold table', async () => {
    const rep = await evaluate({ modelPath: join(TINY, 'tiny-cls.card.json'), dataDir: join(EV, 'folders'), format: 'folders' });
    if (!('top1Accuracy' in rep)) throw new Error('expected a classification report');
    // white → bright (0.73 vs 0.27); black → a 0.5/0.5 tie, which goes to the first label (bright): wrong
    expect(rep.top1Accuracy).toBeCloseTo(1 / 3, 9);
    expect(rep.confusion).toEqual({ labels: ['bright', 'dark'], counts: [[1, 0], [2, 0]] });
    expect(rep.perClass.bright).toMatchObject({ support: 1, precision: 1 / 3, recall: 1, ap: 1 });
    const row = rep.thresholdTable.find((r) => r.threshold === 0.6)!;
    expect(row.perClass.bright).toEqual({ recall: 1, falseAlarmRate: 0 });
    expect(row.perClass.dark).toEqual({ recall: 0, falseAlarmRate: 0 });
  });

  it('the CLI writes the JSON report and a PNG plot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tw-eval-'));
    const out = join(dir, 'r.json');
    await run('npx', ['tsx', 'models/eval/cli.ts', '--model', join(TINY, 'tiny-det.card.json'), '--data', join(EV, 'yolo'), '--format', 'yolo', '--map', join(EV, 'yolo/map.json'), '--out', out]);
    const rep = JSON.parse(await readFile(out, 'utf8')) as { mAP50: number };
    expect(rep.mAP50).toBe(0.5);
    const meta = await sharp(join(dir, 'r.png')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 900, 600]);
  });
});
