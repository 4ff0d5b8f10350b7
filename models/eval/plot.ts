// PR-curve plot: an SVG drawn by hand (one polyline per label, legend with AP) rendered to PNG by sharp.
import sharp from 'sharp';

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function prSvg(title: string, curves: Record<string, Array<[number, number]>>, ap: Record<string, number | null>): string {
  const W = 900, H = 600, L = 70, T = 50, PW = 520, PH = 480;
  const x = (r: number): number => L + r * PW, y = (p: number): number => T + (1 - p) * PH;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif" font-size="13">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  parts.push(`<text x="${L}" y="30" font-size="16">${esc(title)}</text>`);
  for (let k = 0; k <= 10; k++) {
    const v = k / 10;
    parts.push(`<line x1="${x(v)}" y1="${T}" x2="${x(v)}" y2="${T + PH}" stroke="#eee"/><line x1="${L}" y1="${y(v)}" x2="${L + PW}" y2="${y(v)}" stroke="#eee"/>`);
    parts.push(`<text x="${x(v)}" y="${T + PH + 18}" text-anchor="middle">${v.toFixed(1)}</text><text x="${L - 8}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(1)}</text>`);
  }
  parts.push(`<rect x="${L}" y="${T}" width="${PW}" height="${PH}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${L + PW / 2}" y="${H - 8}" text-anchor="middle">recall</text><text x="18" y="${T + PH / 2}" transform="rotate(-90 18 ${T + PH / 2})" text-anchor="middle">precision</text>`);
  Object.entries(curves).forEach(([label, pts], i) => {
    const colour = PALETTE[i % PALETTE.length] as string;
    if (pts.length > 0) {
      // step-wise curve from (0, first precision); thinned to at most ~400 points
      const step = Math.max(1, Math.floor(pts.length / 400));
      const kept = pts.filter((_, k) => k % step === 0 || k === pts.length - 1);
      const d = [[0, kept[0]?.[1] ?? 1] as [number, number], ...kept].map(([r, p]) => `${x(r).toFixed(1)},${y(p).toFixed(1)}`).join(' ');
      parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${d}"/>`);
    }
    const a = ap[label];
    parts.push(`<rect x="${L + PW + 20}" y="${T + i * 20}" width="14" height="4" fill="${colour}"/><text x="${L + PW + 40}" y="${T + i * 20 + 6}">${esc(label)} AP ${a === null || a === undefined ? 'n/a' : a.toFixed(3)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export async function prPng(title: string, curves: Record<string, Array<[number, number]>>, ap: Record<string, number | null>): Promise<Buffer> {
  return sharp(Buffer.from(prSvg(title, curves, ap))).png().toBuffer();
}
