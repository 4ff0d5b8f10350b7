// The review UI: a hash router over a few screens (login, queue, review, supervisor, dashboard) inside one
// shell with the navigation, the signed-in user and the live-connection light.
import { reviewApi, session, whenSignedOut } from './api.js';
import { h, kbd, replace } from './dom.js';
import { followQueueEvents, type LiveState, type QueueEvent } from './events.js';
import { dashboardView } from './views/dashboard.js';
import { loginView } from './views/login.js';
import { queueView } from './views/queue.js';
import { reviewView } from './views/review.js';
import { supervisorView } from './views/supervisor.js';

export interface Screen {
  /** Called with each live queue event while the screen is shown. */
  onQueueEvent?: (e: QueueEvent) => void;
  dispose(): void;
}

export interface ScreenContext {
  main: HTMLElement;
  go(hash: string): void;
}

const root = document.getElementById('app')!;
let screen: Screen | null = null;
let stopEvents: (() => void) | null = null;
let live: LiveState = 'offline';
const liveDot = h('span', { class: 'live offline', role: 'status', title: 'Live queue updates' }, 'offline');

function setLive(s: LiveState): void {
  live = s;
  liveDot.className = `live ${s}`;
  liveDot.textContent = s === 'live' ? 'live' : s === 'connecting' ? 'connecting…' : 'offline';
}

const go = (hash: string) => {
  if (location.hash === hash) void route();
  else location.hash = hash;
};

function shell(active: string): HTMLElement {
  const user = session.user!;
  const supervisor = user.role === 'supervisor' || user.role === 'admin';
  const link = (hash: string, label: string, key: string) =>
    h('a', { href: hash, class: active === hash ? 'active' : '', 'aria-current': active === hash ? 'page' : null, 'aria-keyshortcuts': key }, label, kbd(key));
  const main = h('main', { id: 'main', tabindex: '-1' });
  replace(
    root,
    h('header', { class: 'topbar' },
      h('span', { class: 'brand' }, 'Tidewatch'),
      h('nav', { 'aria-label': 'Screens' },
        link('#/queue', 'Queue', 'Q'),
        supervisor ? link('#/supervisor', 'Holds', 'H') : null,
        supervisor ? link('#/dashboard', 'Dashboard', 'D') : null),
      h('span', { class: 'spacer' }),
      liveDot,
      h('span', { class: 'who' }, `${user.displayName} · ${user.role}${user.tier ? ` tier ${user.tier}` : ''}`),
      h('button', { class: 'ghost', type: 'button', onclick: () => void signOut() }, 'Sign out')),
    main,
  );
  return main;
}

async function signOut(): Promise<void> {
  await reviewApi.logout().catch(() => {});
  session.clear();
  stopEvents?.();
  stopEvents = null;
  go('#/login');
}

async function route(): Promise<void> {
  screen?.dispose();
  screen = null;
  const hash = location.hash || '#/queue';
  if (!session.token) {
    stopEvents?.();
    stopEvents = null;
    root.replaceChildren();
    screen = loginView(root, () => go('#/queue'));
    return;
  }
  if (hash === '#/login') return go('#/queue');
  stopEvents ??= followQueueEvents((e) => screen?.onQueueEvent?.(e), setLive);
  const review = /^#\/review\/(.+)$/.exec(hash);
  const ctx = (active: string): ScreenContext => ({ main: shell(active), go });
  const scanId = review ? decodedOrNull(review[1]!) : null;
  if (scanId !== null) screen = reviewView(ctx('#/queue'), scanId);
  else if (hash === '#/supervisor') screen = supervisorView(ctx(hash));
  else if (hash === '#/dashboard') screen = dashboardView(ctx(hash));
  else screen = queueView(ctx('#/queue'));
  setLive(live);
}

/** A link's scan id; null for a malformed one (`#/review/%E0`), which falls back to the queue. */
function decodedOrNull(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

whenSignedOut(() => go('#/login'));
window.addEventListener('hashchange', () => void route());
// Screen shortcuts that work everywhere except inside text fields and the review screen's own keys.
window.addEventListener('keydown', (e) => {
  const t = e.target as HTMLElement;
  if (e.ctrlKey || e.metaKey || e.altKey || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName) || !session.token) return;
  if (location.hash.startsWith('#/review/')) return;
  const supervisor = ['supervisor', 'admin'].includes(session.user?.role ?? '');
  if (e.key === 'q') go('#/queue');
  else if (e.key === 'h' && supervisor) go('#/supervisor');
  else if (e.key === 'd' && supervisor) go('#/dashboard');
});
void route();
