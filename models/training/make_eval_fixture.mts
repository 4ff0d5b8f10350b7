// Writes test/fixtures/models/eval: a tiny YOLO set (2 images), a COCO set (same), and a folders set
// (3 images) whose metrics under the tiny fixture models are worked out by hand in the test.
// Run: npx tsx models/training/make_eval_fixture.mts
import { mkdir, writeFile } from 'node:fs/promises';
import sharp from 'sharp';

const D = 'test/fixtures/models/eval';
const png = (v: number, size = 64): Promise<Buffer> => sharp({ create: { width: size, height: size, channels: 3, background: { r: v, g: v, b: v } } }).png().toBuffer();
for (const d of ['yolo/images', 'yolo/labels', 'coco/images', 'folders/bright', 'folders/dark']) await mkdir(`${D}/${d}`, { recursive: true });
await writeFile(`${D}/yolo/classes.txt`, 'x\nb\n');
await writeFile(`${D}/yolo/map.json`, JSON.stringify({ x: 'a' }) + '\n');
for (const [name, v] of [['img1', 200], ['img2', 90]] as const) {
  await writeFile(`${D}/yolo/images/${name}.png`, await png(v));
  await writeFile(`${D}/coco/images/${name}.png`, await png(v));
}
// img1: class x (→ a) exactly where the model puts its 'a' box, and a 'b' object the model misses; img2 clean
await writeFile(`${D}/yolo/labels/img1.txt`, '0 0.3125 0.3125 0.25 0.25\n1 0.078125 0.078125 0.15625 0.15625\n');
await writeFile(`${D}/yolo/labels/img2.txt`, '');
await writeFile(`${D}/coco/annotations.json`, JSON.stringify({
  images: [{ id: 1, file_name: 'img1.png' }, { id: 2, file_name: 'img2.png' }],
  annotations: [{ image_id: 1, category_id: 7, bbox: [12, 12, 16, 16] }, { image_id: 1, category_id: 8, bbox: [0, 0, 10, 10] }],
  categories: [{ id: 7, name: 'a' }, { id: 8, name: 'b' }],
}) + '\n');
await writeFile(`${D}/folders/bright/w.png`, await png(255, 8));
await writeFile(`${D}/folders/dark/k.png`, await png(0, 8));
await writeFile(`${D}/folders/dark/g.png`, await png(0, 8));
