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
