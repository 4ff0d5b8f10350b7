// The review screen: the scan large on the left with the imaging tools, the reasons, declaration,
// references and history on the right (same-screen comparison), decisions by keyboard. The lease is
// renewed while the screen is open and released when the reviewer leaves without deciding.
import { ApiFailure, reviewApi, session, type Box, type ReviewDetail, type ReviewerDecision } from '../api.js';
import { h, replace, toast, typingInField } from '../dom.js';
import { BADGE_LABEL, countdown, MODALITY_LABEL, subjectOf } from '../format.js';
import type { Screen, ScreenContext } from '../main.js';
import { TileClient } from '../viewer/tiles.js';
import { ScanViewer, type ModelBox } from '../viewer/viewer.js';
import { DECISION_LABEL, openDecisionDialog } from './decision.js';
import { claimNext } from './queue.js';
import { declarationPanel, historyPanel, reasonsPanel, referencesPanel } from './review-panels.js';

const SHORTCUTS: Array<[string, string]> = [
  ['C', 'clear'], ['I', 'inspect'], ['M', 'misdeclared'], ['B', 'draw a box'], ['N', 'next item'],
  ['0', 'fit'], ['+ / −', 'zoom'], ['← ↑ → ↓', 'pan'], ['right-drag', 'window / level'], ['G', 'greyscale'], ['F', 'material colours'],
  ['X', 'invert'], ['E', 'edges'], ['O', 'boxes on/off'], ['R', 'reset display'], ['1–9', 'show reason'], ['?', 'this help'],
];

export function reviewView(ctx: ScreenContext, scanId: string): Screen {
  const me = session.user!;
  let viewer: ScanViewer | null = null;
  let detail: ReviewDetail | null = null;
  let decided = false;
  let renewTimer = 0;
  let disposed = false;
  const canvas = h('canvas', { class: 'scan', id: 'scan-canvas', tabindex: '0', 'aria-label': 'Scan image: drag to pan, wheel to zoom, right-drag for window and level' });
  const statusZoom = h('span', { id: 'zoom' }, '');
  const statusCursor = h('span', { id: 'cursor' }, '');
  const statusWl = h('span', { id: 'wl' }, '');
  const side = h('aside', { class: 'side', 'aria-label': 'Scan details' }, h('p', { class: 'muted' }, 'Loading…'));
  const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Imaging tools' });
  const boxList = h('div', { id: 'my-boxes' });
  replace(ctx.main, h('div', { class: 'review-screen' },
    h('div', { class: 'stage' }, toolbar, h('div', { class: 'canvas-wrap' }, canvas), h('div', { class: 'statusbar' }, statusZoom, statusWl, statusCursor)),
    side));

  const tool = (id: string, label: string, key: string, onclick: () => void, pressed?: boolean) =>
    h('button', { type: 'button', id, class: 'tool', 'aria-pressed': pressed === undefined ? null : String(pressed), title: `${label} (${key})`, onclick }, label, h('kbd', {}, key));
  const slider = (id: string, label: string, min: number, max: number, step: number, value: number, set: (v: number) => void) => {
    const input = h('input', { type: 'range', id, min, max, step, value, 'aria-label': label });
    input.addEventListener('input', () => set(Number(input.value)));
    return h('label', { class: 'slider', for: id }, h('span', {}, label), input);
  };

  function renderToolbar(): void {
    const v = viewer;
    if (!v) return;
    const d = v.display;
    const range = v.sixteen ? 65535 : 255;
    replace(toolbar,
      tool('t-fit', 'Fit', '0', () => v.fit()),
      tool('t-zoom-in', 'Zoom in', '+', () => v.zoomBy(1.25)),
      tool('t-zoom-out', 'Zoom out', '−', () => v.zoomBy(0.8)),
      h('span', { class: 'sep' }),
      tool('t-grey', 'Grey', 'G', () => set({ material: false }), !d.material),
      v.dualEnergy || v.colourSource ? tool('t-material', 'Material', 'F', () => set({ material: true }), d.material) : h('span', { class: 'muted small', title: 'Single-energy image: no material information' }, 'no dual energy'),
      tool('t-invert', 'Invert', 'X', () => set({ invert: !d.invert }), d.invert),
      tool('t-edges', 'Edges', 'E', () => set({ edges: d.edges ? 0 : 1.5 }), d.edges > 0),
      tool('t-boxes', 'Boxes', 'O', () => { v.showBoxes = !v.showBoxes; v.requestDraw(); renderToolbar(); }, v.showBoxes),
      tool('t-draw', 'Draw box', 'B', () => toggleDraw(), v.mode === 'draw'),
      h('span', { class: 'sep' }),
      slider('s-window', 'Window', 1, range + 1, 1, Math.round(d.window), (x) => set({ window: x }, false)),
      slider('s-level', 'Level', 0, range, 1, Math.round(d.level), (x) => set({ level: x }, false)),
      slider('s-gamma', 'Gamma', 0.2, 3, 0.05, d.gamma, (x) => set({ gamma: x }, false)),
      tool('t-reset', 'Reset', 'R', () => void resetDisplay()),
      tool('t-help', 'Keys', '?', () => showHelp()));
  }

  function set(patch: Parameters<ScanViewer['setDisplay']>[0], rerender = true): void {
    viewer?.setDisplay(patch);
    if (rerender) renderToolbar();
  }

  let startDisplay: ScanViewer['display'] | null = null;
  async function resetDisplay(): Promise<void> {
    if (viewer && startDisplay) set({ ...startDisplay });
  }

  function toggleDraw(force?: boolean): void {
    if (!viewer) return;
    viewer.mode = (force ?? viewer.mode !== 'draw') ? 'draw' : 'pan';
    canvas.classList.toggle('drawing', viewer.mode === 'draw');
    renderToolbar();
  }

  function renderBoxes(): void {
    const v = viewer;
    if (!v) return;
    replace(boxList,
      v.userBoxes.length === 0 ? h('p', { class: 'muted small' }, 'Press B, then drag on the image to mark a region.') :
        h('ol', { class: 'user-boxes' }, v.userBoxes.map((b, i) => {
          const input = h('input', { value: b.label, list: 'box-labels', 'aria-label': `Label of box ${i + 1}`, placeholder: 'label, e.g. knife', class: 'box-label' });
          input.addEventListener('input', () => { b.label = input.value; v.requestDraw(); });
          input.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === 'Escape') { e.preventDefault(); canvas.focus(); } });
          return h('li', {}, input, h('button', { type: 'button', class: 'ghost', 'aria-label': `Delete box ${i + 1}`, onclick: () => { v.userBoxes.splice(i, 1); v.requestDraw(); renderBoxes(); } }, '✕'));
        })),
      h('datalist', { id: 'box-labels' }, ['undeclared goods', 'knife', 'gun', 'ammunition', 'explosive', 'drugs', 'ivory', 'concealed compartment', 'cigarettes', 'electronics'].map((l) => h('option', { value: l }))));
  }

  function holder(): boolean {
    return !!detail && detail.item.claimedBy !== undefined && detail.item.claimedBy !== null && [me.username, me.id, me.displayName].includes(detail.item.claimedBy);
  }

  function decide(decision: ReviewerDecision): void {
    if (!detail || !viewer || document.querySelector('dialog[open]')) return;
    if (!holder()) return toast('Claim the item first.', 'error');
    const v = viewer;
    openDecisionDialog({
      decision,
      subject: subjectOf(detail.scan.subject),
      boxes: v.userBoxes,
      trainee: me.tier === 'C',
      submit: async (d) => {
        const boxes = v.userBoxes.map((b) => ({ label: b.label.trim() || 'suspect', box: b.box }));
        const r = await reviewApi.decide(scanId, { ...d, ...(boxes.length ? { boxes } : {}) });
        decided = true;
        toast(`${DECISION_LABEL[d.decision]}: ${subjectOf(detail!.scan.subject)} → ${r.state.replace(/-/g, ' ')}`);
        if (localStorage.getItem('tidewatch.autoNext') === '1') void claimNext(ctx, scanId);
        else ctx.go('#/queue');
      },
    });
  }

  async function next(): Promise<void> {
    if (holder() && !decided) {
      await reviewApi.release(scanId).catch(() => {});
      decided = true;
    }
    await claimNext(ctx, scanId);
  }

  function showHelp(): void {
    const d = h('dialog', { class: 'help', 'aria-label': 'Keyboard shortcuts' },
      h('h2', {}, 'Keys'),
      h('table', {}, h('tbody', {}, SHORTCUTS.map(([k, what]) => h('tr', {}, h('td', {}, h('kbd', {}, k)), h('td', {}, what))))),
      h('form', { method: 'dialog' }, h('button', { class: 'primary' }, 'Close')));
    d.addEventListener('close', () => d.remove());
    document.body.append(d);
    d.showModal();
  }

  function renderSide(): void {
    const dt = detail!;
    const item = dt.item;
    const sla = countdown(item.slaDeadline, Date.now());
    const autoNext = h('input', { type: 'checkbox', id: 'auto-next', checked: localStorage.getItem('tidewatch.autoNext') === '1' });
    autoNext.addEventListener('change', () => localStorage.setItem('tidewatch.autoNext', autoNext.checked ? '1' : '0'));
    const mustConfirm = item.state === 'awaiting-confirmation' && (me.tier === 'A' || me.role === 'supervisor');
    const decisionButtons = holder()
      ? h('div', { class: 'decide' },
          (['clear', 'inspect', 'misdeclared'] as const).map((d) => h('button', { type: 'button', class: `decide-${d}`, id: `decide-${d}`, onclick: () => decide(d) }, DECISION_LABEL[d], ' ', h('kbd', {}, d[0]!.toUpperCase()))),
          h('button', { type: 'button', id: 'next', onclick: () => void next() }, 'Next ', h('kbd', {}, 'N')))
      : mustConfirm
        ? h('div', { class: 'decide' },
            h('p', {}, 'A trainee decided this scan; confirm or reject the decision.'),
            h('button', { type: 'button', class: 'decide-clear', onclick: () => void confirm(true) }, 'Agree'),
            h('button', { type: 'button', class: 'decide-inspect', onclick: () => void confirm(false) }, 'Disagree'))
        : h('div', { class: 'decide' }, h('p', { class: 'muted' }, item.claimedBy ? `Claimed by ${item.claimedBy}.` : 'Not claimed.'),
            !item.claimedBy ? h('button', { type: 'button', class: 'primary', onclick: () => void claim() }, 'Claim') : null);
    replace(side,
      h('section', { class: 'panel head' },
        h('h1', {}, subjectOf(dt.scan.subject)),
        h('p', { class: 'muted small' }, `${MODALITY_LABEL[dt.scan.modality] ?? dt.scan.modality} · ${dt.scan.scanId}`),
        h('p', {}, item.badges.map((b) => h('span', { class: `badge ${b}` }, BADGE_LABEL[b] ?? b)), ' ',
          h('span', { class: `decision ${item.decision}` }, `machine: ${item.decision}`), ' ',
          h('span', { class: `sla ${sla.overdue || item.overdue ? 'overdue' : sla.soon ? 'soon' : ''}`, id: 'review-sla' }, `SLA ${sla.text}`)),
        decisionButtons,
        holder() ? h('label', { class: 'small muted' }, autoNext, ' open the next item after deciding') : null),
      reasonsPanel(dt.verdict?.reasons ?? item.reasons, focusReason),
      h('section', { class: 'panel', 'aria-labelledby': 'boxes-h' }, h('h2', { id: 'boxes-h' }, 'My boxes'), boxList),
      declarationPanel(dt),
      referencesPanel(dt),
      historyPanel(dt.history));
    renderBoxes();
  }

  async function claim(): Promise<void> {
    try {
      await reviewApi.claim(scanId);
      await load();
    } catch (err) {
      toast(`Claim failed: ${(err as Error).message}`, 'error');
    }
  }

  async function confirm(agree: boolean): Promise<void> {
    try {
      const r = await reviewApi.confirm(scanId, agree);
      toast(`${agree ? 'Agreed' : 'Disagreed'}: ${r.state.replace(/-/g, ' ')}`);
      ctx.go('#/queue');
    } catch (err) {
      toast((err as Error).message, 'error');
    }
  }

  function focusReason(i: number): void {
    const boxes = (detail?.verdict?.reasons ?? detail?.item.reasons ?? [])[i]?.evidence?.boxes ?? [];
    if (!viewer || boxes.length === 0) return;
    const all = boxes.map((b) => b.box);
    viewer.highlighted = i;
    viewer.showBoxes = true;
    viewer.focusBox([Math.min(...all.map((b) => b[0])), Math.min(...all.map((b) => b[1])), Math.max(...all.map((b) => b[2])), Math.max(...all.map((b) => b[3]))]);
    side.querySelectorAll('.reason-link').forEach((el) => el.classList.toggle('active', el.getAttribute('data-reason') === String(i)));
    renderToolbar();
  }

  async function load(): Promise<void> {
    detail = await reviewApi.detail(scanId);
    renderSide();
    clearInterval(renewTimer);
    if (holder() && detail.item.leaseExpiresAt) {
      const every = Math.max(5_000, (new Date(detail.item.leaseExpiresAt).getTime() - Date.now()) / 2);
      renewTimer = window.setInterval(() => {
        reviewApi.renew(scanId).catch((err: ApiFailure) => {
          if (err.code === 'LEASE_LOST') toast('Your claim on this item has lapsed; claim it again before deciding.', 'error');
        });
      }, every);
    }
  }

  async function start(): Promise<void> {
    try {
      await load();
      const urls = await reviewApi.imageUrls(scanId);
      if (disposed) return;
      const client = new TileClient(urls, () => reviewApi.imageUrls(scanId));
      const rendering = detail!.scan.rendering;
      const shown = urls.tiles.byRole[urls.tiles.role]!;
      const v = new ScanViewer(canvas, client, rendering ? shown.width / rendering.width : 1);
      viewer = v;
      (window as unknown as { __viewer: ScanViewer }).__viewer = v;
      const reasons = detail!.verdict?.reasons ?? detail!.item.reasons;
      v.modelBoxes = reasons.flatMap((r, i) => (r.evidence?.boxes ?? []).map((b): ModelBox => ({ ...b, reason: i })));
      v.onViewChange = () => {
        statusZoom.textContent = `zoom ${(v.zoom * 100).toFixed(0)}%`;
        statusWl.textContent = `W ${Math.round(v.display.window)} L ${Math.round(v.display.level)} γ ${v.display.gamma.toFixed(2)}`;
      };
      v.onCursor = (t) => { statusCursor.textContent = t; };
      v.onBoxDrawn = (box: Box) => {
        v.userBoxes.push({ label: '', box });
        v.requestDraw();
        renderBoxes();
        toggleDraw(false);
        (boxList.querySelector('li:last-child input') as HTMLInputElement | null)?.focus();
      };
      await v.start();
      startDisplay = { ...v.display };
      renderToolbar();
      v.onViewChange();
      canvas.focus();
    } catch (err) {
      const f = err as ApiFailure;
      replace(side, h('section', { class: 'panel' }, h('h1', {}, scanId), h('p', { class: 'form-error' }, `Cannot open this scan: ${f.message}`), h('a', { href: '#/queue' }, 'Back to the queue')));
    }
  }

  const onKey = (e: KeyboardEvent) => {
    if (typingInField(e) || e.ctrlKey || e.metaKey || e.altKey || document.querySelector('dialog[open]')) return;
    const v = viewer;
    const k = e.key;
    const pan = 80;
    const actions: Record<string, () => void> = {
      c: () => decide('clear'), i: () => decide('inspect'), m: () => decide('misdeclared'),
      b: () => toggleDraw(), n: () => void next(), q: () => ctx.go('#/queue'),
      '0': () => v?.fit(), '+': () => v?.zoomBy(1.25), '=': () => v?.zoomBy(1.25), '-': () => v?.zoomBy(0.8),
      ArrowLeft: () => v?.panBy(pan, 0), ArrowRight: () => v?.panBy(-pan, 0), ArrowUp: () => v?.panBy(0, pan), ArrowDown: () => v?.panBy(0, -pan),
      g: () => set({ material: false }), f: () => { if (v?.dualEnergy || v?.colourSource) set({ material: true }); },
      x: () => set({ invert: !v?.display.invert }), e: () => set({ edges: v?.display.edges ? 0 : 1.5 }),
      o: () => { if (v) { v.showBoxes = !v.showBoxes; v.requestDraw(); renderToolbar(); } },
      r: () => void resetDisplay(), '?': () => showHelp(),
      Escape: () => toggleDraw(false),
    };
    const action = actions[k.length === 1 ? k.toLowerCase() : k] ?? (/^[1-9]$/.test(k) ? () => focusReason(Number(k) - 1) : undefined);
    if (!action) return;
    e.preventDefault();
    action();
  };
  window.addEventListener('keydown', onKey);
  const tick = setInterval(() => {
    const el = side.querySelector('#review-sla');
    if (el && detail) {
      const c = countdown(detail.item.slaDeadline, Date.now());
      el.textContent = `SLA ${c.text}`;
      el.className = `sla ${c.overdue || detail.item.overdue ? 'overdue' : c.soon ? 'soon' : ''}`;
    }
  }, 1000);
  void start();
  return {
    onQueueEvent(e) {
      if (e.scanId === scanId && !decided) void load();
    },
    dispose() {
      disposed = true;
      window.removeEventListener('keydown', onKey);
      clearInterval(tick);
      clearInterval(renewTimer);
      viewer?.dispose();
      // Leaving without a decision hands the item back to the queue at once instead of when the lease lapses.
      if (holder() && !decided) void reviewApi.release(scanId).catch(() => {});
    },
  };
}
