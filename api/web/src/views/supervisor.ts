// Supervisor: lock instructions (holds) with their state history, mark inspecting, release or seize with
// a reason; dead-lettered terminal/webhook messages with retry.
import { itemsOf, reviewApi, type DeadLetter, type Hold } from '../api.js';
import { h, keepingFocus, replace, toast } from '../dom.js';
import { time } from '../format.js';
import type { Screen, ScreenContext } from '../main.js';

const STATES = ['', 'requested', 'sent', 'acknowledged', 'inspecting', 'released', 'seized'];

export function supervisorView(ctx: ScreenContext): Screen {
  let filter = '';
  const holdsBox = h('section', { class: 'panel', 'aria-labelledby': 'holds-h' });
  const deadBox = h('section', { class: 'panel', 'aria-labelledby': 'dead-h' });
  const select = h('select', { id: 'hold-state', 'aria-label': 'Show holds in state' }, STATES.map((s) => h('option', { value: s }, s || 'all states')));
  select.addEventListener('change', () => { filter = select.value; void load(); });
  replace(ctx.main, h('div', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Holds and terminal messages'), h('label', { for: 'hold-state' }, 'State '), select),
    holdsBox, deadBox));

  function act(hold: Hold, action: 'inspecting' | 'release' | 'seize'): void {
    if (action === 'inspecting') return void run(hold, action);
    const dialog = h('dialog', { class: 'decision-dialog', 'aria-labelledby': 'rel-h' });
    const reason = h('input', { id: 'release-reason', required: true, maxlength: 500, placeholder: action === 'release' ? 'e.g. inspection found goods as declared' : 'e.g. undeclared cigarettes found' });
    const form = h('form', {},
      h('h2', { id: 'rel-h' }, `${action === 'release' ? 'Release' : 'Seize'} ${hold.containerNo ?? hold.scanId ?? hold.id}`),
      h('label', { for: 'release-reason' }, 'Reason (recorded in the audit trail and sent to the terminal)'), reason,
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'), h('button', { type: 'submit', class: 'primary', id: 'release-submit' }, action === 'release' ? 'Release' : 'Seize')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!reason.value.trim()) return;
      dialog.close();
      void run(hold, action, reason.value.trim());
    });
    dialog.append(form);
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    reason.focus();
  }

  async function run(hold: Hold, action: 'inspecting' | 'release' | 'seize', reason?: string): Promise<void> {
    try {
      await reviewApi.holdAction(hold.id, action, reason);
      toast(`${hold.containerNo ?? hold.id}: ${action === 'inspecting' ? 'inspecting' : action === 'release' ? 'released' : 'seized'}`);
    } catch (err) {
      toast((err as Error).message, 'error');
    }
    await load();
  }

  function holdsTable(holds: Hold[]): HTMLElement {
    if (holds.length === 0) return h('p', { class: 'empty' }, filter ? `No holds in state ${filter}.` : 'No holds.');
    return h('table', { class: 'holds' },
      h('thead', {}, h('tr', {}, ['Container', 'Scan', 'Reasons', 'State', 'History', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, holds.map((hold) => {
        return h('tr', { 'data-hold': hold.id },
          h('td', { class: 'mono' }, hold.containerNo ?? '—'),
          h('td', {}, hold.scanId ? h('a', { href: `#/review/${encodeURIComponent(hold.scanId)}` }, hold.scanId) : '—'),
          h('td', { class: 'small' }, (hold.reasons ?? []).join(', ') || '—'),
          h('td', {}, h('span', { class: `lock ${hold.state}` }, hold.state)),
          h('td', { class: 'small' }, (hold.history ?? []).map((s) => h('div', {}, `${time(s.at)} → ${s.to}${s.actor ? ` by ${s.actor}` : ''}${s.reason ? ` — ${s.reason}` : ''}`))),
          h('td', { class: 'actions' },
            hold.state === 'acknowledged' ? h('button', { type: 'button', onclick: () => act(hold, 'inspecting') }, 'Start inspection') : null,
            hold.state === 'inspecting' ? [
              h('button', { type: 'button', class: 'primary', onclick: () => act(hold, 'release') }, 'Release…'),
              h('button', { type: 'button', class: 'danger', onclick: () => act(hold, 'seize') }, 'Seize…')] : null,
            hold.state === 'requested' || hold.state === 'sent' ? h('span', { class: 'muted small' }, 'waiting for the terminal to confirm the lock') : null));
      })));
  }

  function deadTable(dead: DeadLetter[]): HTMLElement {
    if (dead.length === 0) return h('p', { class: 'empty' }, 'No dead-lettered messages: every terminal and webhook message was delivered.');
    return h('table', {},
      h('thead', {}, h('tr', {}, ['Message', 'Target', 'Attempts', 'Last error', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, dead.map((m) => h('tr', { 'data-dead': m.id },
        h('td', {}, m.topic ?? m.id), h('td', { class: 'small' }, m.destination ?? '—'), h('td', { class: 'num' }, m.attempts ?? '—'),
        h('td', { class: 'small' }, m.lastError ?? '—'),
        h('td', {}, h('button', { type: 'button', onclick: () => void reviewApi.retryDead(m.id).then(() => { toast('Queued for another delivery'); return load(); }, (e: Error) => toast(e.message, 'error')) }, 'Retry'))))));
  }

  async function load(): Promise<void> {
    const [holds, dead] = await Promise.allSettled([reviewApi.holds(filter || undefined), reviewApi.deadLetters()]);
    // polling and queue events rebuild the tables under a keyboard user: keep their focus on the same control
    keepingFocus([holdsBox, deadBox], () => {
      replace(holdsBox, h('h2', { id: 'holds-h' }, 'Holds (lock instructions)'),
        holds.status === 'fulfilled' ? holdsTable(itemsOf(holds.value)) : h('p', { class: 'form-error' }, `Holds unavailable: ${(holds.reason as Error).message}`));
      replace(deadBox, h('h2', { id: 'dead-h' }, 'Dead-lettered messages'),
        dead.status === 'fulfilled' ? deadTable(itemsOf(dead.value)) : h('p', { class: 'form-error' }, `Dead letters unavailable: ${(dead.reason as Error).message}`));
    });
  }
  void load();
  const poll = setInterval(() => void load(), 15_000);
  let debounce = 0;
  return {
    onQueueEvent() { clearTimeout(debounce); debounce = window.setTimeout(() => void load(), 300); },
    dispose() { clearInterval(poll); clearTimeout(debounce); },
  };
}
