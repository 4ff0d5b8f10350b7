// The scan on a canvas: a tile pyramid drawn at the level that matches the zoom (the coarsest level always
// underneath, so panning never shows holes), tiles painted through the current display settings and kept
// as small canvases, boxes on top. Mouse: drag pans, wheel zooms at the cursor, right-drag sets
// window/level; in box mode a drag draws a box.
import type { Box } from '../api.js';
import { autoWindow, enhanceEdges, luminance, materialTables, paintColour, paintGrey, paintMaterial, quantile, windowLut, type Display, type MaterialTables } from './imaging.js';
import type { TileClient, TilePixels } from './tiles.js';

export interface ModelBox { label: string; score: number; box: Box; reason: number }
export interface UserBox { label: string; box: Box }

interface TileEntry {
  z: number; x: number; y: number;
  pixels?: TilePixels;
  low?: Uint16Array;
  loading: boolean;
  lowLoading: boolean;
  failed: boolean;
  canvas?: HTMLCanvasElement;
  painted: number;
  paintedWithLow?: boolean;
  used: number;
}

const MAX_TILES = 400;

export class ScanViewer {
  readonly width: number;
  readonly height: number;
  readonly levels: number;
  readonly sixteen: boolean;
  readonly dualEnergy: boolean;
  readonly colourSource: boolean;
  display: Display = { window: 256, level: 128, gamma: 1, invert: false, material: false, edges: 0 };
  showBoxes = true;
  mode: 'pan' | 'draw' = 'pan';
  modelBoxes: ModelBox[] = [];
  userBoxes: UserBox[] = [];
  highlighted: number | null = null;
  /** Measured for the README's benchmark and read by the browser tests. */
  stats = { frames: 0, frameMs: [] as number[], completeAt: 0, complete: false };
  onViewChange: () => void = () => {};
  onBoxDrawn: (box: Box) => void = () => {};
  onCursor: (text: string) => void = () => {};
  /** Called after every drawn frame (DOM overlays follow the view here). */
  onFrame: () => void = () => {};
  /** Boxes of an earlier decision on this scan (a trainee's, shown to whoever confirms it), read-only. */
  decisionBoxes: Array<UserBox & { by: string }> = [];

  private scale = 1;
  private cx = 0;
  private cy = 0;
  private version = 1;
  private tiles = new Map<string, TileEntry>();
  private luts = new Map<number, Uint8Array>();
  private material: MaterialTables | null = null;
  private frame = 0;
  private drag: { kind: 'pan' | 'window' | 'draw'; x: number; y: number; startWindow: number; startLevel: number; imgX: number; imgY: number } | null = null;
  private rubber: Box | null = null;
  private clock = 0;
  private readonly resizeObserver: ResizeObserver;
  /** Nothing is drawn before start() has fitted the scan (a half-set view would count as painted). */
  private ready = false;

  /** `regime`: the scanner's energies, for the material colours (containers: 'mev'; parcels and baggage: 'kv'). */
  constructor(private readonly canvas: HTMLCanvasElement, private readonly client: TileClient, private readonly boxScale: number, private readonly regime: 'kv' | 'mev' = 'kv') {
    const set = client.set(client.displayRole)!;
    this.width = set.width;
    this.height = set.height;
    this.levels = set.levels;
    this.sixteen = set.bitDepth === 16;
    this.dualEnergy = this.sixteen && !!client.set('low') && client.displayRole === 'high';
    this.colourSource = set.channels === 3;
    // A rendering in colour shows its own colours; a parcel's dual-energy pair opens in material colours, the
    // view parcel screeners work in (organic orange, mixed green, metal blue). Containers open in grey.
    this.display.material = this.colourSource || (this.dualEnergy && regime === 'kv');
    this.resizeObserver = new ResizeObserver(() => this.requestDraw());
    this.resizeObserver.observe(canvas);
    this.bindInput();
  }

  /** Loads the coarsest level, sets the starting window from its values, fits the scan to the screen. */
  async start(): Promise<void> {
    const top = this.levels - 1;
    const entry = this.entry(top, 0, 0);
    await this.load(entry);
    const px = entry.pixels;
    if (px) {
      const values = px.rgba ? luminance(px.rgba) : px.values;
      const range = this.sixteen ? 65536 : 256;
      const w = this.sixteen ? autoWindow(values, range) : { window: 256, level: 128 };
      this.display = { ...this.display, ...w };
      if (this.dualEnergy) {
        const low = await this.client.load('low', top, 0, 0);
        this.material = materialTables(Math.max(1, quantile(px.values, 65536, 0.995)), Math.max(1, quantile(low.values, 65536, 0.995)), 65536, this.regime);
      }
    }
    this.ready = true;
    this.fit();
  }

  dispose(): void {
    this.resizeObserver.disconnect();
    cancelAnimationFrame(this.frame);
    this.tiles.clear();
  }

  get zoom(): number {
    return this.scale;
  }

  /** The view: screen pixels per image pixel and the image point at the canvas centre (read by tests). */
  get view(): { scale: number; cx: number; cy: number; width: number; height: number } {
    const { w, h } = this.viewport();
    return { scale: this.scale, cx: this.cx, cy: this.cy, width: w, height: h };
  }

  /** Where a box given in rendering pixels is on the canvas now, in CSS pixels: [left, top, width, height]. */
  screenRect(box: Box): [number, number, number, number] {
    const [x1, y1] = this.toScreen(box[0] * this.boxScale, box[1] * this.boxScale);
    const [x2, y2] = this.toScreen(box[2] * this.boxScale, box[3] * this.boxScale);
    return [x1, y1, x2 - x1, y2 - y1];
  }

  setDisplay(patch: Partial<Display>): void {
    this.display = { ...this.display, ...patch };
    this.version++;
    this.luts.clear();
    this.changed();
  }

  fit(): void {
    const { w, h } = this.viewport();
    this.scale = Math.min(w / this.width, h / this.height) * 0.98;
    this.cx = this.width / 2;
    this.cy = this.height / 2;
    this.changed();
  }

  zoomBy(factor: number, atX?: number, atY?: number): void {
    const { w, h } = this.viewport();
    const sx = atX ?? w / 2;
    const sy = atY ?? h / 2;
    const [ix, iy] = this.toImage(sx, sy);
    const min = Math.min(w / this.width, h / this.height) * 0.5;
    this.scale = Math.min(32, Math.max(min, this.scale * factor));
    // keep the point under the cursor where it was
    this.cx = ix - (sx - w / 2) / this.scale;
    this.cy = iy - (sy - h / 2) / this.scale;
    this.changed();
  }

  panBy(dxScreen: number, dyScreen: number): void {
    this.cx -= dxScreen / this.scale;
    this.cy -= dyScreen / this.scale;
    this.changed();
  }

  /** Centres and zooms on a box given in rendering pixels: the box fills about half the view, never more than 8×. */
  focusBox(box: Box): void {
    const [x1, y1, x2, y2] = box.map((v) => v * this.boxScale) as Box;
    const { w, h } = this.viewport();
    this.scale = Math.min(8, Math.min(w / Math.max(8, x2 - x1), h / Math.max(8, y2 - y1)) * 0.5);
    this.cx = (x1 + x2) / 2;
    this.cy = (y1 + y2) / 2;
    this.changed();
  }

  /** The middle half of the view as a box in rendering pixels, clamped to the image (box drawing by keyboard). */
  centreBox(): Box {
    const { w, h } = this.viewport();
    const [ax, ay] = this.toImage(w / 4, h / 4);
    const [bx, by] = this.toImage((3 * w) / 4, (3 * h) / 4);
    return this.boxFrom(ax, ay, bx, by);
  }

  requestDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** Marks the start of a timed interval: stats.completeAt is set when the view is next fully painted. */
  markTiming(): void {
    this.stats.complete = false;
    this.stats.completeAt = 0;
  }

  private changed(): void {
    this.stats.complete = false;
    this.canvas.dataset.complete = 'false';
    this.requestDraw();
    this.onViewChange();
  }

  private viewport() {
    return { w: this.canvas.clientWidth || 1, h: this.canvas.clientHeight || 1 };
  }

  private toImage(sx: number, sy: number): [number, number] {
    const { w, h } = this.viewport();
    return [(sx - w / 2) / this.scale + this.cx, (sy - h / 2) / this.scale + this.cy];
  }

  private toScreen(ix: number, iy: number): [number, number] {
    const { w, h } = this.viewport();
    return [(ix - this.cx) * this.scale + w / 2, (iy - this.cy) * this.scale + h / 2];
  }

  private levelFor(): number {
    const s = this.scale * devicePixelRatio;
    return Math.max(0, Math.min(this.levels - 1, Math.floor(Math.log2(1 / s) + 1e-9)));
  }

  private entry(z: number, x: number, y: number): TileEntry {
    const key = `${z}/${x}/${y}`;
    let e = this.tiles.get(key);
    if (!e) {
      e = { z, x, y, loading: false, lowLoading: false, failed: false, painted: 0, used: 0 };
      this.tiles.set(key, e);
    }
    return e;
  }

  private async load(e: TileEntry): Promise<void> {
    if (e.pixels || e.loading || e.failed) return;
    e.loading = true;
    try {
      e.pixels = await this.client.load(this.client.displayRole, e.z, e.x, e.y);
    } catch {
      e.failed = true;
    }
    e.loading = false;
    this.requestDraw();
  }

  private async loadLow(e: TileEntry): Promise<void> {
    if (e.low || e.lowLoading) return;
    e.lowLoading = true;
    try {
      e.low = (await this.client.load('low', e.z, e.x, e.y)).values as Uint16Array;
    } catch {
      /* the tile stays grey */
    }
    e.lowLoading = false;
    this.requestDraw();
  }

  private lut(levels: number): Uint8Array {
    let l = this.luts.get(levels);
    if (!l) {
      l = windowLut(this.display, levels);
      this.luts.set(levels, l);
    }
    return l;
  }

  /** Paints a tile through the display settings; false while it still waits for data. */
  private paint(e: TileEntry): boolean {
    const px = e.pixels!;
    const d = this.display;
    const wantsLow = d.material && this.dualEnergy;
    if (wantsLow && !e.low) void this.loadLow(e);
    if (e.canvas && e.painted === this.version) {
      if (!wantsLow || e.paintedWithLow) return true;
      if (!e.low) return false; // painted grey for now; the low-energy tile is on its way
    }
    const image = new ImageData(px.width, px.height);
    const out = image.data;
    if (this.sixteen) {
      const lut = this.lut(65536);
      if (wantsLow && e.low && this.material) paintMaterial(px.values as Uint16Array, e.low, lut, this.material, out);
      else paintGrey(px.values, lut, out);
    } else if (px.rgba) {
      if (d.material) paintColour(px.rgba, this.lut(256), out);
      else paintGrey(luminance(px.rgba), this.lut(256), out);
    } else {
      paintGrey(px.values, this.lut(256), out);
    }
    enhanceEdges(out, px.width, px.height, d.edges);
    if (!e.canvas) {
      e.canvas = document.createElement('canvas');
      e.canvas.width = px.width;
      e.canvas.height = px.height;
    }
    e.canvas.getContext('2d')!.putImageData(image, 0, 0);
    e.painted = this.version;
    e.paintedWithLow = wantsLow && !!e.low;
    return !wantsLow || !!e.low;
  }

  private draw(): void {
    if (!this.ready) return;
    const t0 = performance.now();
    const dpr = devicePixelRatio;
    const { w, h } = this.viewport();
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
    }
    const ctx = this.canvas.getContext('2d', { willReadFrequently: true })!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#15181c';
    ctx.fillRect(0, 0, w, h);
    ctx.imageSmoothingEnabled = this.scale < 2;
    this.clock++;
    const budgetEnd = t0 + 12;
    let complete = true;
    const z = this.levelFor();
    const drawLevel = (level: number, required: boolean) => {
      const f = 2 ** level;
      const T = 256 * f; // image pixels per tile at this level
      const [ix0, iy0] = this.toImage(0, 0);
      const [ix1, iy1] = this.toImage(w, h);
      const xs = Math.max(0, Math.floor(ix0 / T));
      const ys = Math.max(0, Math.floor(iy0 / T));
      const xe = Math.min(Math.ceil(this.width / T) - 1, Math.floor(ix1 / T));
      const ye = Math.min(Math.ceil(this.height / T) - 1, Math.floor(iy1 / T));
      for (let ty = ys; ty <= ye; ty++) {
        for (let tx = xs; tx <= xe; tx++) {
          const e = this.entry(level, tx, ty);
          e.used = this.clock;
          if (!e.pixels) {
            void this.load(e);
            if (required && !e.failed) complete = false;
            continue;
          }
          const current = e.canvas && e.painted === this.version;
          if (!current && performance.now() > budgetEnd && e.canvas) {
            complete = false;
          } else if (!this.paint(e) && required) {
            complete = false;
          }
          if (!e.canvas) continue;
          const [sx, sy] = this.toScreen(tx * T, ty * T);
          ctx.drawImage(e.canvas, sx, sy, e.pixels.width * f * this.scale, e.pixels.height * f * this.scale);
        }
      }
    };
    if (z !== this.levels - 1) drawLevel(this.levels - 1, false);
    drawLevel(z, true);
    this.drawBoxes(ctx);
    this.evict();
    this.onFrame();
    const ms = performance.now() - t0;
    this.stats.frames++;
    this.stats.frameMs.push(ms);
    if (this.stats.frameMs.length > 600) this.stats.frameMs.shift();
    if (complete && !this.stats.complete) {
      this.stats.complete = true;
      this.stats.completeAt = performance.now();
      this.canvas.dataset.complete = 'true';
    } else if (!complete) {
      this.canvas.dataset.complete = 'false';
      this.requestDraw();
    }
  }

  private drawBoxes(ctx: CanvasRenderingContext2D): void {
    const rect = (b: Box) => {
      const [x1, y1] = this.toScreen(b[0] * this.boxScale, b[1] * this.boxScale);
      const [x2, y2] = this.toScreen(b[2] * this.boxScale, b[3] * this.boxScale);
      return [x1, y1, x2 - x1, y2 - y1] as const;
    };
    const label = (text: string, x: number, y: number, colour: string) => {
      ctx.font = '600 12px system-ui, sans-serif';
      const tw = ctx.measureText(text).width + 8;
      ctx.fillStyle = colour;
      ctx.fillRect(x, y - 18, tw, 18);
      ctx.fillStyle = '#000';
      ctx.fillText(text, x + 4, y - 5);
    };
    if (this.showBoxes) {
      for (const b of this.modelBoxes) {
        const hot = this.highlighted === b.reason;
        const colour = hot ? '#ffd84d' : '#ff5a4f';
        const [x, y, bw, bh] = rect(b.box);
        ctx.lineWidth = hot ? 3 : 2;
        ctx.strokeStyle = colour;
        ctx.setLineDash([]);
        ctx.strokeRect(x, y, bw, bh);
        label(`${b.label} ${(b.score * 100).toFixed(0)}%`, x, y, colour);
      }
    }
    for (const [i, b] of this.userBoxes.entries()) {
      const [x, y, bw, bh] = rect(b.box);
      ctx.lineWidth = 2;
      ctx.strokeStyle = '#4dd2ff';
      ctx.setLineDash([6, 4]);
      ctx.strokeRect(x, y, bw, bh);
      ctx.setLineDash([]);
      label(`${i + 1}. ${b.label || 'unlabelled'}`, x, y + bh + 18, '#4dd2ff');
    }
    for (const b of this.decisionBoxes) {
      const [x, y, bw, bh] = rect(b.box);
      ctx.lineWidth = 2;
      ctx.strokeStyle = '#c9a0ff';
      ctx.setLineDash([3, 3]);
      ctx.strokeRect(x, y, bw, bh);
      ctx.setLineDash([]);
      label(`${b.by}: ${b.label}`, x, y + bh + 18, '#c9a0ff');
    }
    if (this.rubber) {
      const [x, y, bw, bh] = rect(this.rubber);
      ctx.strokeStyle = '#4dd2ff';
      ctx.lineWidth = 1.5;
      ctx.setLineDash([4, 3]);
      ctx.strokeRect(x, y, bw, bh);
      ctx.setLineDash([]);
    }
  }

  private evict(): void {
    if (this.tiles.size <= MAX_TILES) return;
    const old = [...this.tiles.entries()].filter(([, e]) => e.used < this.clock && e.z !== this.levels - 1).sort((a, b) => a[1].used - b[1].used);
    for (const [key] of old.slice(0, this.tiles.size - MAX_TILES)) this.tiles.delete(key);
  }

  /** The value under a screen point, from the most detailed tile at hand. */
  private valueAt(sx: number, sy: number): string {
    const [ix, iy] = this.toImage(sx, sy);
    if (ix < 0 || iy < 0 || ix >= this.width || iy >= this.height) return '';
    for (let z = this.levelFor(); z < this.levels; z++) {
      const f = 2 ** z;
      const e = this.tiles.get(`${z}/${Math.floor(ix / (256 * f))}/${Math.floor(iy / (256 * f))}`);
      if (!e?.pixels) continue;
      const lx = Math.floor(ix / f) % 256;
      const ly = Math.floor(iy / f) % 256;
      const v = e.pixels.values[ly * e.pixels.width + lx];
      return `x ${Math.floor(ix)}, y ${Math.floor(iy)}: ${this.sixteen ? `${v} counts` : `value ${v}`}`;
    }
    return `x ${Math.floor(ix)}, y ${Math.floor(iy)}`;
  }

  private bindInput(): void {
    const c = this.canvas;
    const local = (e: MouseEvent) => {
      const r = c.getBoundingClientRect();
      return [e.clientX - r.left, e.clientY - r.top] as const;
    };
    c.addEventListener('contextmenu', (e) => e.preventDefault());
    c.addEventListener('wheel', (e) => {
      e.preventDefault();
      const [x, y] = local(e);
      this.zoomBy(Math.exp(-e.deltaY * 0.0015), x, y);
    }, { passive: false });
    c.addEventListener('pointerdown', (e) => {
      const [x, y] = local(e);
      const [ix, iy] = this.toImage(x, y);
      const kind = e.button === 2 || e.shiftKey ? 'window' : this.mode === 'draw' ? 'draw' : 'pan';
      this.drag = { kind, x, y, startWindow: this.display.window, startLevel: this.display.level, imgX: ix, imgY: iy };
      c.setPointerCapture(e.pointerId);
      c.focus();
    });
    c.addEventListener('pointermove', (e) => {
      const [x, y] = local(e);
      this.onCursor(this.valueAt(x, y));
      const d = this.drag;
      if (!d) return;
      if (d.kind === 'pan') {
        this.panBy(x - d.x, y - d.y);
        d.x = x;
        d.y = y;
      } else if (d.kind === 'window') {
        const range = this.sixteen ? 65536 : 256;
        const step = range / 1500;
        this.setDisplay({ window: Math.max(1, d.startWindow + (x - d.x) * step * 2), level: d.startLevel - (y - d.y) * step * 2 });
      } else {
        const [ix, iy] = this.toImage(x, y);
        this.rubber = this.boxFrom(d.imgX, d.imgY, ix, iy);
        this.requestDraw();
      }
    });
    const end = () => {
      const d = this.drag;
      this.drag = null;
      if (d?.kind === 'draw' && this.rubber) {
        const b = this.rubber;
        this.rubber = null;
        if (b[2] - b[0] >= 3 && b[3] - b[1] >= 3) this.onBoxDrawn(b);
        this.requestDraw();
      }
    };
    c.addEventListener('pointerup', end);
    c.addEventListener('pointercancel', end);
  }

  /** A box in rendering pixels, clamped to the image. */
  private boxFrom(ax: number, ay: number, bx: number, by: number): Box {
    const k = 1 / this.boxScale;
    const cl = (v: number, max: number) => Math.round(Math.min(max, Math.max(0, v)) * k);
    return [cl(Math.min(ax, bx), this.width), cl(Math.min(ay, by), this.height), cl(Math.max(ax, bx), this.width), cl(Math.max(ay, by), this.height)];
  }
}
