// The review screen's side panels: the machine's reasons (each linked to its boxes on the image), the
// declaration (lines with HS 2022 descriptions, enterprise and credit level), reference images (and, for a
// long container, what each part looked like) and the scan's history.
import { LONG_CONTAINER_METRES, metresAlong, supportsDeclared } from '../../../../domain/assessment/reference-match.js';
import type { Box, Declaration, Reason, ReviewDetail, Verdict } from '../api.js';
import { h, kbd } from '../dom.js';
import { CREDIT_LABEL, time } from '../format.js';

/**
 * The regions a reason points at, in rendering pixels: its model boxes, or its stretch along the image
 * (`xRange`, a part of a long container) as a full-height box.
 */
export function reasonRegions(r: Reason, rendering: { height: number } | null | undefined): Array<{ label: string; score: number; box: Box }> {
  if (r.evidence?.boxes?.length) return r.evidence.boxes;
  const x = r.evidence?.xRange;
  if (!x || !rendering) return [];
  const code = Object.keys(r.evidence?.scores ?? {}).find((k) => /^[0-9]+$/.test(k));
  return [{ label: code ? `looks like HS ${code}` : 'part', score: code ? r.evidence!.scores![code]! : 1, box: [x[0], 0, x[1], rendering.height] }];
}

export function reasonsPanel(reasons: Reason[], focus: (index: number) => void, rendering?: { height: number } | null): HTMLElement {
  if (reasons.length === 0) return h('section', { class: 'panel' }, h('h2', {}, 'Why it is here'), h('p', { class: 'empty' }, 'The machine gave no reasons.'));
  return h('section', { class: 'panel', 'aria-labelledby': 'reasons-h' },
    h('h2', { id: 'reasons-h' }, 'Why the machine flagged it'),
    h('ol', { class: 'reasons' }, reasons.map((r, i) => {
      const boxes = reasonRegions(r, rendering);
      const meta = `${r.layer ? `${r.layer} · ` : ''}${r.code}`;
      // A reason with a region is a button that shows it on the image; one without is plain text.
      return h('li', { class: `reason ${r.decision ?? ''}` },
        boxes.length
          ? h('button', { type: 'button', class: 'reason-link', 'data-reason': i, 'aria-controls': 'scan-canvas', 'aria-keyshortcuts': i < 9 ? String(i + 1) : null, title: 'Show on the image', onclick: () => focus(i) },
              h('span', { class: 'reason-detail' }, r.detail),
              h('span', { class: 'reason-meta' }, `${meta} · show ${boxes.length} region${boxes.length > 1 ? 's' : ''} on the image `, i < 9 ? kbd(String(i + 1)) : null))
          : h('div', { class: 'reason-text', 'data-reason': i },
              h('span', { class: 'reason-detail' }, r.detail),
              h('span', { class: 'reason-meta' }, meta)));
    })));
}

export function declarationPanel(detail: ReviewDetail): HTMLElement {
  const d = detail.declaration as Declaration | null | undefined;
  const head = h('h2', { id: 'decl-h' }, 'Declaration');
  if (!d) return h('section', { class: 'panel', 'aria-labelledby': 'decl-h' }, head, h('p', { class: 'empty warn' }, 'No declaration is linked to this scan.'));
  const credit = d.enterprise?.creditLevel ?? 'unknown';
  const declaredKg = d.lines.reduce((s, l) => s + l.grossKg, 0);
  const tare = d.containers?.reduce((s, c) => s + (c.tareKg ?? 0), 0) ?? 0;
  const weighed = detail.scan.weightKg;
  return h('section', { class: 'panel', 'aria-labelledby': 'decl-h' }, head,
    h('dl', { class: 'facts' },
      h('dt', {}, 'Enterprise'), h('dd', {}, d.enterprise?.name ?? d.enterprise?.id ?? '—', ' ', h('span', { class: `credit ${credit}` }, CREDIT_LABEL[credit] ?? credit)),
      h('dt', {}, 'Declaration'), h('dd', {}, d.declarationId, d.port ? ` · ${d.port}` : ''),
      d.containers?.length ? [h('dt', {}, 'Seal / tare'), h('dd', {}, d.containers.map((c) => `${c.containerNo}${c.sealNo ? ` seal ${c.sealNo}` : ''}${c.tareKg ? ` tare ${c.tareKg} kg` : ''}`).join('; '))] : null,
      h('dt', {}, 'Weight'), h('dd', {}, `declared ${declaredKg.toLocaleString()} kg${tare ? ` + tare ${tare.toLocaleString()} kg` : ''}`, weighed ? ` · weighed ${weighed.toLocaleString()} kg` : ''),
      d.perishable ? [h('dt', {}, 'Perishable'), h('dd', {}, 'yes')] : null,
      d.vesselClosingAt ? [h('dt', {}, 'Vessel closes'), h('dd', {}, time(d.vesselClosingAt))] : null),
    d.lines.length === 0
      ? h('p', { class: 'empty' }, 'Declared empty (no lines).')
      : h('table', { class: 'lines' },
          h('thead', {}, h('tr', {}, ['HS code', 'Goods', 'Qty', 'Gross'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, d.lines.map((l) => h('tr', {},
            h('td', { class: 'mono' }, l.hsCode),
            h('td', {}, h('div', {}, l.description), l.hsDescription ? h('div', { class: 'muted small' }, `HS 2022: ${l.hsDescription}`) : null, l.category ? h('div', { class: 'muted small' }, `seen as: ${l.category}`) : null),
            h('td', { class: 'num' }, `${l.quantity.toLocaleString()} ${l.unit}`),
            h('td', { class: 'num' }, `${l.grossKg.toLocaleString()} kg`))))));
}

/** A long container: which stretch looked most like which code (the machine's tile matches), left to right. */
function tilesList(detail: ReviewDetail): HTMLElement | null {
  const found = detail.verdict?.declaredVsSeen?.references;
  const tiles = found?.tiles ?? [];
  if (tiles.length === 0) return null;
  const length = Math.max(...tiles.map((t) => t.x + t.width));
  const declared = (found?.declared ?? []).map((d) => ({ ...d, nearest: [], references: 0 }));
  return h('div', { class: 'ref-tiles' },
    h('h3', { class: 'small', id: 'ref-tiles-h' }, `Along the container (metres from the image's left end, of about ${Math.round(LONG_CONTAINER_METRES)})`),
    h('ul', { class: 'tile-looks', 'aria-labelledby': 'ref-tiles-h' }, tiles.map((t) => {
      const [m1, m2] = metresAlong(t.x, t.x + t.width, length);
      const other = !supportsDeclared(t.bestCode, declared);
      return h('li', { class: other ? 'other' : 'declared', 'data-x': t.x },
        `metres ${m1}–${m2}: looks like HS `, h('span', { class: 'mono' }, t.bestCode), ` (${t.similarity.toFixed(2)})`,
        other ? h('strong', {}, ' not declared') : null,
        other && t.declaredSimilarity !== null ? h('span', { class: 'muted small' }, ` · declared ${t.declaredSimilarity.toFixed(2)}`) : null);
    })));
}

export function referencesPanel(detail: ReviewDetail): HTMLElement {
  const refs = detail.references ?? [];
  const codes = (detail.declaration?.lines ?? []).map((l) => l.hsCode.slice(0, 6));
  return h('section', { class: 'panel', 'aria-labelledby': 'refs-h' },
    h('h2', { id: 'refs-h' }, 'Reference images'),
    tilesList(detail),
    refs.length === 0
      ? h('p', { class: 'empty', id: 'no-references' }, `No references yet${codes.length ? ` for HS ${[...new Set(codes)].join(', ')}` : ''}. Verified images of these goods will appear here once the reference library has them.`)
      : (['declared', 'other'] as const).map((group) => {
          const shown = refs.filter((r) => (r.group ?? 'declared') === group);
          if (shown.length === 0) return null;
          return h('div', { class: `ref-group ${group}` },
            h('h3', { class: 'small' }, group === 'declared' ? `Declared HS ${[...new Set(shown.map((r) => r.hsCode))].join(', ')}` : `Looks most like HS ${shown[0]!.hsCode} (not declared)`),
            h('div', { class: 'refs' }, shown.map((r) => h('figure', { 'data-reference': r.referenceId ?? '' },
              h('img', { src: r.url, alt: `Reference scan of HS ${r.hsCode ?? 'unknown'}${r.label ? `: ${r.label}` : ''}`, loading: 'lazy' }),
              h('figcaption', {}, h('span', { class: 'mono' }, r.hsCode ?? ''), r.similarity !== undefined ? h('span', { class: 'similarity', title: 'cosine similarity of the embeddings' }, ` similarity ${r.similarity.toFixed(2)}`) : null)))));
        }));
}

export function historyPanel(history: Verdict[]): HTMLElement {
  return h('section', { class: 'panel', 'aria-labelledby': 'hist-h' },
    h('h2', { id: 'hist-h' }, 'History'),
    history.length === 0 ? h('p', { class: 'empty' }, 'No verdicts yet.') :
      h('ol', { class: 'history' }, [...history].reverse().map((v) => h('li', {},
        h('span', { class: `decision ${v.decision}` }, v.decision), ' ',
        h('strong', {}, v.source), ' ', h('span', { class: 'muted small' }, time(v.at)),
        h('div', { class: 'small' }, v.reasons.map((r) => r.detail).join(' · ') || '—')))));
}
