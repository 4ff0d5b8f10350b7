// The queue: my items first (claimed, or waiting for my confirmation), then everything waiting in the
// order reviewers work it, with priority badges and a live SLA countdown; overdue rows are red. Live
// events refresh it; ↑/↓ move, Enter opens, N claims the next free item.
import { ApiFailure, reviewApi, session, type QueueItem } from '../api.js';
import { h, kbd, keepingFocus, replace, toast, typingInField } from '../dom.js';
import { BADGE_LABEL, countdown, MODALITY_LABEL, subjectOf, time } from '../format.js';
import type { Screen, ScreenContext } from '../main.js';

export async function claimAndOpen(ctx: ScreenContext, scanId: string): Promise<boolean> {
  try {
    await reviewApi.claim(scanId);
    ctx.go(`#/review/${encodeURIComponent(scanId)}`);
    return true;
  } catch (err) {
    const f = err as ApiFailure;
    toast(f.code === 'ALREADY_CLAIMED' ? `${scanId} was just claimed by someone else` : `Claim failed: ${f.message}`, 'error');
    return false;
  }
}

const CLAIMABLE = ['open', 'awaiting-second', 'escalated'];

/** Past its SLA: flagged so by the server, or its deadline passed since the queue was loaded. */
const isOverdue = (item: QueueItem): boolean => item.overdue || new Date(item.slaDeadline).getTime() < Date.now();

/** Claims the first free item of the queue (the one reviewers should take next). */
export async function claimNext(ctx: ScreenContext, skip?: string): Promise<void> {
  const { items } = await reviewApi.queue(50);
  for (const item of items) {
    if (item.scanId === skip || item.claimedBy || !CLAIMABLE.includes(item.state)) continue;
    if (await claimAndOpen(ctx, item.scanId)) return;
  }
  toast('Nothing left to claim: the queue is clear.');
  ctx.go('#/queue');
}

export function queueView(ctx: ScreenContext): Screen {
  let queue: QueueItem[] = [];
  let mine: QueueItem[] = [];
  let selected = 0;
  let loadedAt = '';
  const me = session.user!;
  const status = h('p', { class: 'muted', id: 'queue-status' }, 'Loading…');
  const mineBox = h('section', { class: 'panel', 'aria-labelledby': 'mine-h' });
  const queueBox = h('section', { class: 'panel', 'aria-labelledby': 'queue-h' });
  replace(ctx.main,
    h('div', { class: 'page' },
      h('div', { class: 'page-head' },
        h('h1', {}, 'Review queue'),
        h('button', { class: 'primary', type: 'button', id: 'claim-next', 'aria-keyshortcuts': 'N', onclick: () => void claimNext(ctx) }, 'Claim next ', kbd('N')),
        status),
      mineBox, queueBox,
      h('p', { class: 'muted keys' }, h('kbd', {}, '↑'), h('kbd', {}, '↓'), ' select · ', h('kbd', {}, 'Enter'), ' claim / open · ', h('kbd', {}, 'N'), ' claim next · ', h('kbd', {}, 'Q'), ' queue')));

  const cells = new Map<string, HTMLElement>();
  function slaCell(item: QueueItem): HTMLElement {
    const c = countdown(item.slaDeadline, Date.now());
    const el = h('td', { class: `sla ${c.overdue || item.overdue ? 'overdue' : c.soon ? 'soon' : ''}`, title: `deadline ${time(item.slaDeadline)}` }, c.text);
    cells.set(item.scanId, el);
    return el;
  }

  function row(item: QueueItem, list: 'mine' | 'queue'): HTMLElement {
    const mineItem = list === 'mine';
    const confirm = item.state === 'awaiting-confirmation' && item.claimedBy !== me.username;
    const subject = subjectOf(item.subject);
    const claimable = CLAIMABLE.includes(item.state) && (item.state !== 'escalated' || me.role === 'supervisor');
    const action = mineItem
      ? h('button', { type: 'button', 'aria-label': `${confirm ? 'Confirm' : 'Open'} ${subject}`, onclick: () => ctx.go(`#/review/${encodeURIComponent(item.scanId)}`) }, confirm ? 'Confirm' : 'Open')
      : item.claimedBy
        ? h('span', { class: 'muted claimed' }, `claimed by ${item.claimedBy}`)
        : !claimable
          ? h('span', { class: 'muted' }, item.state === 'awaiting-confirmation' ? 'waiting for a senior' : item.state === 'escalated' ? 'with a supervisor' : item.state.replace(/-/g, ' '))
          : h('button', { type: 'button', class: 'primary', 'aria-label': `Claim ${subject}`, onclick: () => void claimAndOpen(ctx, item.scanId) }, 'Claim');
    return h('tr', { 'data-scan': item.scanId },
      h('td', { class: 'badges' }, item.badges.map((b) => h('span', { class: `badge ${b}` }, BADGE_LABEL[b] ?? b))),
      h('td', { class: 'subject' }, h('strong', {}, subjectOf(item.subject)), h('div', { class: 'muted small' }, item.scanId)),
      h('td', {}, MODALITY_LABEL[item.modality] ?? item.modality),
      h('td', {}, h('span', { class: `decision ${item.decision}` }, item.decision), ' ', h('span', { class: 'small' }, item.reasons.map((r) => r.detail).slice(0, 2).join(' · '))),
      h('td', { class: 'small' }, time(item.receivedAt)),
      slaCell(item),
      h('td', { class: 'small state' }, item.claimedBy && item.state === 'open' ? 'claimed' : item.state.replace(/-/g, ' ')),
      h('td', {}, action));
  }

  // Rows are patched in place, keyed by scan: a live update leaves a row whose item did not change as the very
  // same element, so a key a reviewer is pressing on its button (Space clicks on keyup) is not lost when the
  // table changes around it. Rows whose item changed are built again (keepingFocus puts the focus back).
  const built = new WeakMap<Element, string>();
  function patchRows(tbody: HTMLElement, items: QueueItem[], list: 'mine' | 'queue'): void {
    const old = new Map([...tbody.children].map((tr) => [(tr as HTMLElement).dataset.scan ?? '', tr as HTMLElement]));
    let cursor = tbody.firstElementChild;
    items.forEach((item, index) => {
      const sig = JSON.stringify(item);
      let tr = old.get(item.scanId);
      if (!tr || built.get(tr) !== sig) {
        if (tr === cursor) cursor = cursor.nextElementSibling;
        tr?.remove();
        tr = row(item, list);
        built.set(tr, sig);
      } else {
        cells.set(item.scanId, tr.querySelector<HTMLElement>('td.sla')!);
      }
      old.delete(item.scanId);
      if (tr === cursor) cursor = cursor.nextElementSibling;
      else tbody.insertBefore(tr, cursor);
      const isSelected = list === 'queue' && index === selected;
      tr.classList.toggle('selected', isSelected);
      tr.classList.toggle('overdue', isOverdue(item));
      if (isSelected) tr.setAttribute('aria-current', 'true');
      else tr.removeAttribute('aria-current');
    });
    for (const gone of old.values()) gone.remove();
  }

  function section(box: HTMLElement, items: QueueItem[], list: 'mine' | 'queue'): void {
    const id = `${list}-h`;
    const title = list === 'mine' ? `My items (${items.length})` : `Waiting (${items.length})`;
    let head = box.querySelector('h2');
    if (!head) box.append(head = h('h2', { id }));
    if (head.textContent !== title) head.textContent = title;
    if (items.length === 0) {
      const text = list === 'mine' ? 'You hold no items.' : 'The queue is empty. New scans that need a person appear here by themselves.';
      if (box.querySelector('p.empty')?.textContent !== text) replace(box, head, h('p', { class: 'empty' }, text));
      return;
    }
    let tbody = box.querySelector<HTMLElement>('table.queue tbody');
    if (!tbody) {
      tbody = h('tbody');
      replace(box, head, h('table', { class: 'queue' },
        h('thead', {}, h('tr', {}, ...['Priority', 'Container / waybill', 'Modality', 'Machine says', 'Received', 'SLA', 'State', ''].map((t) => h('th', { scope: 'col' }, t)))),
        tbody));
    }
    patchRows(tbody, items, list);
  }

  function render(): void {
    cells.clear();
    // a row that must be built again under a keyboard user's focus gets the focus back on its new button, or the
    // Space or Enter they press next would do nothing
    keepingFocus([mineBox, queueBox], () => {
      section(mineBox, mine, 'mine');
      section(queueBox, queue, 'queue');
    });
    const overdue = queue.filter(isOverdue).length;
    status.textContent = `${queue.length} waiting · ${overdue} overdue · updated ${loadedAt}`;
  }

  let inFlight: Promise<void> | null = null;
  let again = false;
  async function load(): Promise<void> {
    if (inFlight) {
      again = true;
      return inFlight;
    }
    inFlight = (async () => {
      try {
        const [q, m] = await Promise.all([reviewApi.queue(), reviewApi.mine()]);
        const mineIds = new Set(m.items.map((i) => i.scanId));
        mine = m.items;
        queue = q.items.filter((i) => !mineIds.has(i.scanId));
        selected = Math.min(selected, Math.max(0, queue.length - 1));
        loadedAt = new Date().toLocaleTimeString();
        render();
      } catch (err) {
        status.textContent = `Could not load the queue: ${(err as Error).message}`;
      }
    })();
    await inFlight;
    inFlight = null;
    if (again) {
      again = false;
      await load();
    }
  }

  const tick = setInterval(() => {
    const now = Date.now();
    for (const item of [...mine, ...queue]) {
      const el = cells.get(item.scanId);
      if (!el) continue;
      const c = countdown(item.slaDeadline, now);
      el.textContent = c.text;
      el.className = `sla ${c.overdue || item.overdue ? 'overdue' : c.soon ? 'soon' : ''}`;
      el.closest('tr')?.classList.toggle('overdue', c.overdue || item.overdue);
    }
  }, 1000);
  const poll = setInterval(() => void load(), 30_000);
  const onKey = (e: KeyboardEvent) => {
    if (typingInField(e) || e.ctrlKey || e.metaKey || e.altKey || document.querySelector('dialog[open]')) return;
    // Enter and Space on a focused button or link are that control's own; the queue's keys act only elsewhere.
    const onControl = (e.target as HTMLElement).closest('button, a, summary');
    if (onControl && (e.key === 'Enter' || e.key === ' ')) return;
    if (e.key === 'ArrowDown' || e.key === 'j') selected = Math.min(queue.length - 1, selected + 1);
    else if (e.key === 'ArrowUp' || e.key === 'k') selected = Math.max(0, selected - 1);
    else if (e.key === 'Enter' && queue[selected] && !queue[selected]!.claimedBy && CLAIMABLE.includes(queue[selected]!.state)) return void claimAndOpen(ctx, queue[selected]!.scanId);
    else if (e.key === 'n' || e.key === 'N') return void claimNext(ctx);
    else return;
    e.preventDefault();
    render();
    queueBox.querySelector('tr.selected')?.scrollIntoView({ block: 'nearest' });
  };
  window.addEventListener('keydown', onKey);
  void load();
  let debounce = 0;
  return {
    onQueueEvent() {
      clearTimeout(debounce);
      debounce = window.setTimeout(() => void load(), 150);
    },
    dispose() {
      clearInterval(tick);
      clearInterval(poll);
      clearTimeout(debounce);
      window.removeEventListener('keydown', onKey);
    },
  };
}
