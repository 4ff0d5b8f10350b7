// A tiny element builder: enough to write views as plain functions without a framework.
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = String(value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el: Element, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
  }
}

export function replace(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

/**
 * Rebuilds parts of a screen without taking a keyboard user's focus away: when a control inside `roots` has focus,
 * the control with the same name (aria-label, else its text) in the same row (the nearest element with a data-*
 * key) is focused again after `rebuild`. Live updates (queue events, polling) rebuild tables under the user.
 */
export function keepingFocus(roots: readonly Element[], rebuild: () => void): void {
  const active = document.activeElement as HTMLElement | null;
  const inside = active && roots.some((r) => r.contains(active)) ? active : null;
  const nameOf = (el: Element) => el.getAttribute('aria-label') ?? el.textContent?.trim() ?? '';
  const rowOf = (el: Element) => {
    const row = el.closest('tr, li');
    return row ? [...row.attributes].filter((a) => a.name.startsWith('data-')).map((a) => `${a.name}=${a.value}`).join(' ') : '';
  };
  const kept = inside && { tag: inside.tagName, name: nameOf(inside), row: rowOf(inside) };
  rebuild();
  if (!kept || !kept.row) return;
  for (const r of roots) {
    const again = [...r.querySelectorAll<HTMLElement>(kept.tag)].find((el) => nameOf(el) === kept.name && rowOf(el) === kept.row);
    if (again) return void again.focus({ preventScroll: true });
  }
}

export function svg(tag: string, attrs: Record<string, string | number>, ...children: (SVGElement | string)[]): SVGElement {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

/**
 * A visible key hint inside a control. Hidden from assistive technology: the control carries the same key
 * in aria-keyshortcuts (see keys()), so its accessible name stays the plain label.
 */
export function kbd(key: string): HTMLElement {
  return h('kbd', { 'aria-hidden': 'true' }, key);
}

/** aria-keyshortcuts for a key as shown ("+" is "Plus", "−" is "Minus"). */
export function keys(shown: string): string {
  return ({ '+': 'Plus', '−': 'Minus', '-': 'Minus', '?': 'Shift+?', Esc: 'Escape' } as Record<string, string>)[shown] ?? shown;
}

let toastSeq = 0;
/** A short message in the corner: errors stay longer than confirmations. */
export function toast(message: string, kind: 'ok' | 'error' = 'ok'): void {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div', { class: `toast ${kind}`, 'data-seq': ++toastSeq }, message);
  box.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 3000);
}

/** True when a key press belongs to a text field, not to the screen's shortcuts. */
export function typingInField(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  return !!t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
}
