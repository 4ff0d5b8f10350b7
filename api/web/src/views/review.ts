// The review screen: the scan large on the left with the imaging tools, the reasons, declaration,
// references and history on the right (same-screen comparison), decisions by keyboard. The lease is
// renewed while the screen is open and released when the reviewer leaves without deciding.
import { ApiFailure, reviewApi, session, type Box, type ReviewDecisionView, type ReviewDetail, type ReviewerDecision } from '../api.js';
import { h, kbd, keys, replace, toast, typingInField } from '../dom.js';
import { BADGE_LABEL, countdown, MODALITY_LABEL, subjectOf } from '../format.js';
import type { Screen, ScreenContext } from '../main.js';
import { TileClient } from '../viewer/tiles.js';
import { ScanViewer, type ModelBox } from '../viewer/viewer.js';
import { DECISION_LABEL, openDecisionDialog } from './decision.js';
import { claimNext } from './queue.js';
import { declarationPanel, historyPanel, reasonRegions, reasonsPanel, referencesPanel } from './review-panels.js';
import { isContainerModality, type Modality } from '../../../../domain/scan.js';

const SHORTCUTS: Array<[string, string]> = [
  ['C', 'clear'], ['I', 'inspect'], ['M', 'misdeclared'], ['B', 'draw a box'], ['N', 'next item'],
  ['0', 'fit'], ['B, Enter', 'box the middle of the view'], ['+ / −', 'zoom'], ['← ↑ → ↓', 'pan'], ['right-drag', 'window / level'], ['G', 'greyscale'], ['F', 'material colours'],
  ['X', 'invert'], ['E', 'edges'], ['O', 'boxes on/off'], ['R', 'reset display'], ['1–9', 'show reason on the image'], ['Esc', 'stop drawing / clear highlight'],
  ['A / D', "agree / disagree with a trainee's decision"], ['?', 'this help'],
];

export function reviewView(ctx: ScreenContext, scanId: string): Screen {
  const me = session.user!;
  let viewer: ScanViewer | null = null;
  let detail: ReviewDetail | null = null;
  let decided = false;
  let renewTimer = 0;
  let disposed = false;
  // An interactive image: the application role hands the arrow keys (pan) and + / − (zoom) to the page.
  const canvas = h('canvas', {
    class: 'scan', id: 'scan-canvas', tabindex: '0', role: 'application', 'aria-roledescription': 'scan viewer',
    'aria-label': `X-ray scan ${scanId}`, 'aria-describedby': 'viewer-keys',
  });
  const viewerKeys = h('p', { class: 'sr-only', id: 'viewer-keys' },
    'Arrow keys pan, plus and minus zoom, 0 fits the scan; B then Enter marks a box in the middle of the view; drag with the mouse to pan, wheel to zoom, right-drag for window and level.');
  // The boxes of the reason being shown, as elements over the canvas (the canvas draws them too): they
  // follow every pan and zoom, and name the region for assistive technology.
  const focusLayer = h('div', { class: 'focus-layer', id: 'focus-layer', hidden: true });
  const announce = h('p', { class: 'sr-only', role: 'status', id: 'viewer-announce' });
  const statusZoom = h('span', { id: 'zoom' }, '');
  const statusCursor = h('span', { id: 'cursor' }, '');
  const statusWl = h('span', { id: 'wl' }, '');
  const side = h('aside', { class: 'side', 'aria-label': 'Scan details' }, h('p', { class: 'muted' }, 'Loading…'));
  const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Imaging tools' });
  const boxList = h('div', { id: 'my-boxes' });
  replace(ctx.main, h('div', { class: 'review-screen' },
    h('div', { class: 'stage' }, toolbar, h('div', { class: 'canvas-wrap' }, canvas, focusLayer), announce, viewerKeys, h('div', { class: 'statusbar' }, statusZoom, statusWl, statusCursor)),
    side));

  const tool = (id: string, label: string, key: string, onclick: () => void, pressed?: boolean) =>
    h('button', { type: 'button', id, class: 'tool', 'aria-pressed': pressed === undefined ? null : String(pressed), 'aria-keyshortcuts': keys(key), title: `${label} (${key})`, onclick }, label, kbd(key));
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
    if (!v) return void replace(boxList, h('p', { class: 'muted small' }, 'Press B, then drag on the image to mark a region.'));
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
    // claimedBy is the holder's username (a display name may be anyone's)
    return !!detail && !!detail.item.claimedBy && detail.item.claimedBy === me.username;
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
        toast(r.state === 'awaiting-confirmation'
          ? `${DECISION_LABEL[d.decision]}: ${subjectOf(detail!.scan.subject)} waits for a senior reviewer's confirmation`
          : `${DECISION_LABEL[d.decision]}: ${subjectOf(detail!.scan.subject)} → ${r.state.replace(/-/g, ' ')}`);
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

  function pendingDecision(): ReviewDecisionView | undefined {
    return detail?.decisions?.find((d) => d.status === 'pending-confirmation');
  }

  /** A senior's view of a trainee's decision: what was decided and why, then agree or disagree. */
  function confirmPanel(p: ReviewDecisionView): HTMLElement {
    const comment = h('textarea', { id: 'confirm-comment', rows: 2, maxlength: 2000, placeholder: 'optional; recorded with your confirmation' });
    const send = (agree: boolean) => void confirm(agree, comment.value.trim() || undefined);
    return h('section', { class: 'confirm-panel', 'aria-labelledby': 'confirm-h' },
      h('h2', { id: 'confirm-h' }, 'Trainee decision to confirm'),
      h('p', { id: 'pending-decision' },
        h('span', { class: `decision ${p.decision}` }, DECISION_LABEL[p.decision] ?? p.decision), ' by ', h('strong', {}, p.reviewer),
        p.tier ? ` (tier ${p.tier})` : '', ' — ', `“${p.reason}”`),
      p.comment ? h('p', { class: 'small' }, p.comment) : null,
      p.boxes.length ? h('p', { class: 'small muted' }, `${p.boxes.length} box${p.boxes.length > 1 ? 'es' : ''} drawn: ${p.boxes.map((b) => b.label).join(', ')} (violet on the image)`) : null,
      h('label', { for: 'confirm-comment', class: 'small' }, 'Comment'), comment,
      h('div', { class: 'decide' },
        h('button', { type: 'button', class: 'decide-clear', id: 'confirm-agree', 'aria-keyshortcuts': 'A', onclick: () => send(true) }, 'Agree', kbd('A')),
        h('button', { type: 'button', class: 'decide-misdeclared', id: 'confirm-disagree', 'aria-keyshortcuts': 'D', onclick: () => send(false) }, 'Disagree', kbd('D'))),
      h('p', { class: 'small muted' }, 'Agreeing makes the decision final; disagreeing sends the scan to a supervisor.'));
  }

  function renderSide(): void {
    const dt = detail!;
    const item = dt.item;
    const sla = countdown(item.slaDeadline, Date.now());
    const autoNext = h('input', { type: 'checkbox', id: 'auto-next', checked: localStorage.getItem('tidewatch.autoNext') === '1' });
    autoNext.addEventListener('change', () => localStorage.setItem('tidewatch.autoNext', autoNext.checked ? '1' : '0'));
    const pending = pendingDecision();
    const mustConfirm = item.state === 'awaiting-confirmation' && (me.tier === 'A' || me.role === 'supervisor') && !!pending;
    const claimable = item.state === 'open' || item.state === 'awaiting-second' || (item.state === 'escalated' && me.role === 'supervisor');
    const decisionButtons = holder()
      ? h('div', { class: 'decide' },
          (['clear', 'inspect', 'misdeclared'] as const).map((d) => h('button', { type: 'button', class: `decide-${d}`, id: `decide-${d}`, 'aria-keyshortcuts': d[0]!.toUpperCase(), onclick: () => decide(d) }, DECISION_LABEL[d], ' ', kbd(d[0]!.toUpperCase()))),
          h('button', { type: 'button', id: 'next', 'aria-keyshortcuts': 'N', onclick: () => void next() }, 'Next ', kbd('N')))
      : mustConfirm
        ? confirmPanel(pending)
        : h('div', { class: 'decide' }, h('p', { class: 'muted', id: 'item-state' },
              item.state === 'awaiting-confirmation' ? "A trainee's decision waits for a senior reviewer's confirmation."
              : item.state === 'escalated' && me.role !== 'supervisor' ? 'Escalated: a supervisor decides this scan.'
              : item.state === 'decided' ? 'Decided.'
              : item.claimedBy ? `Claimed by ${item.claimedBy}.` : 'Not claimed.'),
            !item.claimedBy && claimable ? h('button', { type: 'button', class: 'primary', onclick: () => void claim() }, 'Claim') : null);
    replace(side,
      h('section', { class: 'panel head' },
        h('h1', {}, subjectOf(dt.scan.subject)),
        h('p', { class: 'muted small' }, `${MODALITY_LABEL[dt.scan.modality] ?? dt.scan.modality} · ${dt.scan.scanId}`),
        h('p', {}, item.badges.map((b) => h('span', { class: `badge ${b}` }, BADGE_LABEL[b] ?? b)), ' ',
          h('span', { class: `decision ${item.decision}` }, `machine: ${item.decision}`), ' ',
          h('span', { class: `sla ${sla.overdue || item.overdue ? 'overdue' : sla.soon ? 'soon' : ''}`, id: 'review-sla' }, `SLA ${sla.text}`)),
        decisionButtons,
        holder() ? h('label', { class: 'small muted' }, autoNext, ' open the next item after deciding') : null),
      reasonsPanel(dt.verdict?.reasons ?? item.reasons, focusReason, dt.scan.rendering),
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

  let confirming = false;
  async function confirm(agree: boolean, comment?: string): Promise<void> {
    const shown = pendingDecision();
    if (confirming || !shown) return;
    confirming = true;
    try {
      // the decision shown: if another one is pending by now, the server refuses (CONFIRMATION_STALE)
      const r = await reviewApi.confirm(scanId, shown.id, agree, comment);
      decided = true;
      toast(`${agree ? 'Agreed' : 'Disagreed'}: ${subjectOf(detail!.scan.subject)} → ${r.state.replace(/-/g, ' ')}`);
      ctx.go('#/queue');
    } catch (err) {
      toast((err as Error).message, 'error');
      // another decision is pending now: show it
      if ((err as ApiFailure).code === 'CONFIRMATION_STALE') void load();
    } finally {
      confirming = false;
    }
  }

  /** Zooms and pans to the boxes of reason i and highlights them (on the canvas and in the focus layer). */
  function focusReason(i: number): void {
    const reason = (detail?.verdict?.reasons ?? detail?.item.reasons ?? [])[i];
    const boxes = reason ? reasonRegions(reason, detail?.scan.rendering) : [];
    if (!viewer || boxes.length === 0) return;
    const all = boxes.map((b) => b.box);
    viewer.highlighted = i;
    viewer.showBoxes = true;
    replace(focusLayer, boxes.map((b, k) => h('div', {
      class: 'focus-box', 'data-reason': i, role: 'img',
      'aria-label': `Region ${k + 1} of reason ${i + 1}: ${b.label} ${(b.score * 100).toFixed(0)}%`,
    })));
    viewer.focusBox([Math.min(...all.map((b) => b[0])), Math.min(...all.map((b) => b[1])), Math.max(...all.map((b) => b[2])), Math.max(...all.map((b) => b[3]))]);
    markReason(i);
    announce.textContent = `Showing reason ${i + 1} on the image: ${boxes.map((b) => b.label).join(', ')}`;
    renderToolbar();
  }

  /** Marks the reason shown on the image (or none) in the side panel. */
  function markReason(i: number | null): void {
    side.querySelectorAll('.reason-link').forEach((el) => {
      const on = i !== null && el.getAttribute('data-reason') === String(i);
      el.classList.toggle('active', on);
      if (on) el.setAttribute('aria-current', 'true');
      else el.removeAttribute('aria-current');
    });
  }

  function clearFocus(): void {
    if (!viewer || viewer.highlighted === null) return;
    viewer.highlighted = null;
    focusLayer.replaceChildren();
    markReason(null);
    viewer.requestDraw();
  }

  /** Keeps the focus layer's boxes on the highlighted boxes after every frame (pan, zoom, resize). */
  function placeFocus(): void {
    const v = viewer;
    const show = !!v && v.showBoxes && v.highlighted !== null && focusLayer.childElementCount > 0;
    focusLayer.hidden = !show;
    if (!show) return;
    const boxes = v.modelBoxes.filter((b) => b.reason === v.highlighted);
    boxes.forEach((b, k) => {
      const el = focusLayer.children[k] as HTMLElement | undefined;
      if (!el) return;
      const [x, y, w, hh] = v.screenRect(b.box);
      el.style.transform = `translate(${x}px, ${y}px)`;
      el.style.width = `${w}px`;
      el.style.height = `${hh}px`;
    });
  }

  /** Detail requests made: only the latest one's answer is shown. */
  let loads = 0;
  let latest: Promise<void> = Promise.resolve();

  function load(): Promise<void> {
    latest = loadOnce(++loads);
    return latest;
  }

  async function loadOnce(call: number): Promise<void> {
    const answer = await reviewApi.detail(scanId);
    // The screen was left: this answer starts nothing, or a renewal timer would outlive the screen (renewing a
    // claim nobody works, or toasting on another screen). A later load (a live event) was made meanwhile: its
    // answer is the one shown, and whoever waits on this load waits for it.
    if (disposed) return;
    if (call !== loads) return latest;
    detail = answer;
    // A re-render (a live event about this scan) keeps a keyboard user's place in the side panel.
    const had = document.activeElement instanceof HTMLElement && side.contains(document.activeElement) ? document.activeElement : null;
    const selector = had?.id ? `#${CSS.escape(had.id)}` : had?.dataset.reason !== undefined ? `.reason-link[data-reason="${had.dataset.reason}"]` : null;
    renderSide();
    if (selector) (side.querySelector(selector) as HTMLElement | null)?.focus({ preventScroll: true });
    markReason(viewer?.highlighted ?? null);
    showDecisionBoxes();
    clearInterval(renewTimer);
    if (holder() && detail.item.leaseExpiresAt) {
      // half the lease as this browser's clock reads it, but at least once a minute: a clock behind the server's
      // would otherwise put the first renewal after the lease had lapsed
      const every = Math.min(60_000, Math.max(5_000, (new Date(detail.item.leaseExpiresAt).getTime() - Date.now()) / 2));
      renewTimer = window.setInterval(() => {
        reviewApi.renew(scanId).catch((err: ApiFailure) => {
          if (err.code === 'LEASE_LOST') toast('Your claim on this item has lapsed; claim it again before deciding.', 'error');
        });
      }, every);
    }
  }

  function showDecisionBoxes(): void {
    if (!viewer) return;
    const p = pendingDecision();
    viewer.decisionBoxes = p ? p.boxes.map((b) => ({ ...b, by: p.reviewer })) : [];
    viewer.requestDraw();
  }

  async function start(): Promise<void> {
    try {
      await load();
      const urls = await reviewApi.imageUrls(scanId);
      if (disposed) return;
      const client = new TileClient(urls, () => reviewApi.imageUrls(scanId));
      const rendering = detail!.scan.rendering;
      const shown = urls.tiles.byRole[urls.tiles.role]!;
      const v = new ScanViewer(canvas, client, rendering ? shown.width / rendering.width : 1, isContainerModality(detail!.scan.modality as Modality) ? 'mev' : 'kv');
      viewer = v;
      (window as unknown as { __viewer: ScanViewer }).__viewer = v;
      const reasons = detail!.verdict?.reasons ?? detail!.item.reasons;
      v.modelBoxes = reasons.flatMap((r, i) => reasonRegions(r, rendering).map((b): ModelBox => ({ ...b, reason: i })));
      v.onViewChange = () => {
        statusZoom.textContent = `zoom ${(v.zoom * 100).toFixed(0)}%`;
        statusWl.textContent = `W ${Math.round(v.display.window)} L ${Math.round(v.display.level)} γ ${v.display.gamma.toFixed(2)}`;
      };
      v.onCursor = (t) => { statusCursor.textContent = t; };
      v.onFrame = placeFocus;
      showDecisionBoxes();
      renderBoxes();
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
      Escape: () => { if (v?.mode === 'draw') toggleDraw(false); else clearFocus(); },
    };
    // Box mode by keyboard: Enter marks the middle of the view (frame the region first with the arrows and + / −).
    if (k === 'Enter' && v?.mode === 'draw' && !(e.target as HTMLElement).closest('button, a, input, select, textarea')) {
      e.preventDefault();
      v.onBoxDrawn(v.centreBox());
      return;
    }
    // A senior confirming a trainee's decision: A agrees, D disagrees (only while that panel is shown).
    if (!holder() && (k === 'a' || k === 'd') && side.querySelector('#confirm-agree')) {
      e.preventDefault();
      (side.querySelector(k === 'a' ? '#confirm-agree' : '#confirm-disagree') as HTMLButtonElement).click();
      return;
    }
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
      // Leaving without a decision hands the item back to the queue at once instead of when the lease lapses; also
      // when its details had not arrived yet (claimed from the queue a moment ago: the server releases only a claim
      // this user holds, and answers 409 otherwise, which is ignored here).
      if ((holder() || !detail) && !decided) void reviewApi.release(scanId).catch(() => {});
    },
  };
}
