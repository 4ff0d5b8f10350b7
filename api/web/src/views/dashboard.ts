// Supervisor dashboard: auto-clear rate, queue depth, overdue, decisions today, and two SVG charts
// (verdicts by hour, reviewer throughput).
import { reviewApi, type Stats } from '../api.js';
import { h, replace, svg } from '../dom.js';
import type { Screen, ScreenContext } from '../main.js';

const SERIES: Array<[string, string]> = [['clear', '#3fb46a'], ['review', '#e3a21a'], ['hold', '#e5534b']];

/** Stacked bars per hour; a row without clear/review/hold keys is drawn as one "count" bar. */
export function hourChart(rows: Stats['verdictsByHour']): SVGElement {
  const W = 720, H = 220, pad = 32;
  const totals = rows.map((r) => SERIES.reduce((s, [k]) => s + (Number(r[k]) || 0), 0) || Number(r.count ?? r.total ?? 0));
  const max = Math.max(1, ...totals);
  const bw = Math.min(48, (W - pad * 2) / Math.max(1, rows.length));
  const bars: SVGElement[] = [];
  rows.forEach((r, i) => {
    let y = H - pad;
    const parts = SERIES.some(([k]) => r[k] !== undefined) ? SERIES.map(([k, c]) => [Number(r[k]) || 0, c] as const) : [[totals[i]!, '#6ea8fe'] as const];
    for (const [v, colour] of parts) {
      const hgt = (v / max) * (H - pad * 2);
      y -= hgt;
      if (hgt > 0) bars.push(svg('rect', { x: pad + i * bw + 2, y, width: Math.max(1, bw - 4), height: hgt, fill: colour }, svg('title', {}, `${r.hour ?? i}: ${v}`)));
    }
    if (rows.length <= 24 || i % 2 === 0) {
      const label = String(r.hour ?? i);
      bars.push(svg('text', { x: pad + i * bw + bw / 2, y: H - pad + 14, 'text-anchor': 'middle', class: 'axis' }, /T(\d\d)/.exec(label)?.[1] ?? label.slice(-2)));
    }
  });
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': 'Verdicts by hour' },
    svg('line', { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, class: 'axis-line' }),
    svg('text', { x: pad - 4, y: pad, 'text-anchor': 'end', class: 'axis' }, String(max)), ...bars);
}

export function throughputChart(rows: Stats['reviewerThroughput']): SVGElement {
  const W = 480, rowH = 26, pad = 120;
  const max = Math.max(1, ...rows.map((r) => r.decisions));
  const H = Math.max(rowH, rows.length * rowH) + 8;
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': 'Decisions per reviewer today' },
    ...rows.flatMap((r, i) => [
      svg('text', { x: pad - 8, y: i * rowH + 18, 'text-anchor': 'end', class: 'axis' }, r.reviewer),
      svg('rect', { x: pad, y: i * rowH + 5, width: ((W - pad - 40) * r.decisions) / max, height: rowH - 10, fill: '#6ea8fe' }),
      svg('text', { x: pad + ((W - pad - 40) * r.decisions) / max + 6, y: i * rowH + 18, class: 'axis' }, String(r.decisions)),
    ]));
}

export function dashboardView(ctx: ScreenContext): Screen {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  replace(ctx.main, h('div', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', {}, 'Dashboard')), body));
  const card = (label: string, value: string, warn = false) => h('div', { class: `card ${warn ? 'warn' : ''}` }, h('div', { class: 'card-value' }, value), h('div', { class: 'card-label' }, label));
  async function load(): Promise<void> {
    try {
      const s = await reviewApi.stats();
      replace(body,
        h('div', { class: 'cards' },
          card('auto-clear rate', `${(s.autoClearRate * 100).toFixed(1)}%`),
          card('queue depth', String(s.queueDepth)),
          card('overdue', String(s.overdue), s.overdue > 0),
          card('decisions today', String(s.decisionsToday))),
        h('section', { class: 'panel' }, h('h2', {}, 'Verdicts by hour'),
          s.verdictsByHour.length ? hourChart(s.verdictsByHour) : h('p', { class: 'empty' }, 'No verdicts yet.'),
          h('p', { class: 'legend' }, SERIES.map(([k, c]) => h('span', {}, swatch(c), k)))),
        h('section', { class: 'panel' }, h('h2', {}, 'Reviewer throughput today'),
          s.reviewerThroughput.length ? throughputChart(s.reviewerThroughput) : h('p', { class: 'empty' }, 'No reviewer decisions today.')));
    } catch (err) {
      replace(body, h('p', { class: 'form-error' }, `Statistics unavailable: ${(err as Error).message}`));
    }
  }
  void load();
  const poll = setInterval(() => void load(), 30_000);
  return { dispose: () => clearInterval(poll) };
}

/** A legend's colour square, coloured through the CSSOM: the page's Content-Security-Policy refuses style attributes. */
function swatch(colour: string): HTMLElement {
  const i = h('i', {});
  i.style.background = colour;
  return i;
}
