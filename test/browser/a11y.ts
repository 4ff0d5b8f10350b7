// Accessibility checks run in the page (no axe-core): a Tab walk that records every stop with its role,
// accessible name (Playwright's aria snapshot, which computes names as browsers do) and whether its focus
// is visible (focus style and a pixel difference with and without focus); the focusable elements a walk
// must reach; unnamed controls and images in Chromium's own accessibility tree (CDP); text contrast.
import sharp from 'sharp';
import type { Page } from 'playwright-core';

export interface Stop {
  index: number;
  tag: string;
  id: string;
  role: string;
  name: string;
  focusVisible: boolean;
  /** outline or box-shadow drawn while focused */
  styled: boolean;
  /** pixels that change around the element when it loses focus */
  changedPixels: number;
}

const ROLE_LINE = /^- ([\w-]+)(?: "((?:[^"\\]|\\.)*)")?/;

/** Role and accessible name of the element carrying data-a11y-here, as Playwright's aria snapshot says. */
async function roleAndName(page: Page): Promise<{ role: string; name: string }> {
  const snap = await page.locator('[data-a11y-here]').ariaSnapshot();
  const m = ROLE_LINE.exec(snap.split('\n')[0]!.trim());
  return { role: m?.[1] ?? '', name: m?.[2] ?? '' };
}

async function diffPixels(a: Buffer, b: Buffer): Promise<number> {
  const [ra, rb] = await Promise.all([sharp(a).raw().toBuffer({ resolveWithObject: true }), sharp(b).raw().toBuffer({ resolveWithObject: true })]);
  if (ra.data.length !== rb.data.length) return Number.MAX_SAFE_INTEGER;
  const ch = ra.info.channels;
  let n = 0;
  for (let i = 0; i < ra.data.length; i += ch) {
    let d = 0;
    for (let k = 0; k < 3; k++) d += Math.abs(ra.data[i + k]! - rb.data[i + k]!);
    if (d > 60) n++;
  }
  return n;
}

/**
 * Presses Tab from the current focus until the focus comes back to the first stop (or `max` presses),
 * recording each stop. Each stop is also screenshotted with and without focus to see the ring.
 */
export async function tabWalk(page: Page, max = 150): Promise<Stop[]> {
  const stops: Stop[] = [];
  await page.evaluate(() => document.querySelectorAll('[data-a11y-stop]').forEach((el) => el.removeAttribute('data-a11y-stop')));
  for (let press = 0; press < max; press++) {
    await page.keyboard.press('Tab');
    const info = await page.evaluate((n) => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body || el === document.documentElement) return { kind: 'none' as const };
      if (el.dataset.a11yStop !== undefined) return { kind: 'seen' as const };
      el.dataset.a11yStop = String(n);
      document.querySelectorAll('[data-a11y-here]').forEach((x) => x.removeAttribute('data-a11y-here'));
      el.setAttribute('data-a11y-here', '');
      const cs = getComputedStyle(el);
      const styled = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2) || cs.boxShadow !== 'none';
      const r = el.getBoundingClientRect();
      return { kind: 'new' as const, tag: el.tagName.toLowerCase(), id: el.id, focusVisible: el.matches(':focus-visible'), styled, rect: { x: r.x, y: r.y, width: r.width, height: r.height } };
    }, stops.length);
    if (info.kind === 'seen') break;
    if (info.kind === 'none') continue;
    const { role, name } = await roleAndName(page);
    const vp = page.viewportSize()!;
    const pad = 6;
    const x = Math.max(0, Math.floor(info.rect.x - pad));
    const y = Math.max(0, Math.floor(info.rect.y - pad));
    const clip = { x, y, width: Math.max(1, Math.min(vp.width, Math.ceil(info.rect.x + info.rect.width + pad)) - x), height: Math.max(1, Math.min(vp.height, Math.ceil(info.rect.y + info.rect.height + pad)) - y) };
    const on = await page.screenshot({ clip, animations: 'disabled', caret: 'hide' });
    await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      (window as unknown as { __a11yLast: HTMLElement }).__a11yLast = el;
      el.blur();
    });
    const off = await page.screenshot({ clip, animations: 'disabled', caret: 'hide' });
    await page.evaluate(() => (window as unknown as { __a11yLast: HTMLElement }).__a11yLast.focus({ preventScroll: true }));
    stops.push({ index: stops.length, tag: info.tag, id: info.id, role, name, focusVisible: info.focusVisible, styled: info.styled, changedPixels: await diffPixels(on, off) });
  }
  return stops;
}

/**
 * Elements a keyboard user must be able to reach that a walk did not (within the open modal dialog if
 * there is one; one radio per group is enough).
 */
export function unreached(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const modal = document.querySelector('dialog[open]:modal');
    const scope: ParentNode = modal ?? document;
    const candidates = [...scope.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, summary, [tabindex]')].filter((el) => {
      if ((el as HTMLButtonElement).disabled || el.tabIndex < 0 || (el as HTMLInputElement).type === 'hidden') return false;
      if (el.closest('[inert], [hidden]')) return false;
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && el.checkVisibility({ visibilityProperty: true });
    });
    const radioGroups = new Map<string, HTMLElement[]>();
    const missing: string[] = [];
    for (const el of candidates) {
      if (el instanceof HTMLInputElement && el.type === 'radio') {
        radioGroups.set(el.name, [...(radioGroups.get(el.name) ?? []), el]);
        continue;
      }
      if (el.dataset.a11yStop === undefined) missing.push(`${el.tagName.toLowerCase()}#${el.id} "${(el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40)}"`);
    }
    for (const [name, group] of radioGroups) if (!group.some((r) => r.dataset.a11yStop !== undefined)) missing.push(`radio group ${name}`);
    return missing;
  });
}

/** Controls and images without an accessible name in Chromium's accessibility tree. */
export async function unnamedInAxTree(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: Array<{ ignored: boolean; role?: { value: string }; name?: { value: string } }> };
    const needName = new Set(['button', 'link', 'textbox', 'searchbox', 'checkbox', 'radio', 'slider', 'spinbutton', 'combobox', 'listbox', 'switch', 'tab', 'menuitem', 'image', 'img', 'application', 'dialog']);
    return nodes
      .filter((n) => !n.ignored && needName.has(n.role?.value ?? '') && !(n.name?.value ?? '').trim())
      .map((n) => n.role!.value);
  } finally {
    await cdp.detach();
  }
}

/** Images (img, svg, canvas) that have neither alt text nor an aria-label (decorative ones say so). */
export function imagesWithoutText(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt') || (!img.alt.trim() && img.getAttribute('role') !== 'presentation')) out.push(`img ${img.src.slice(0, 60)}`);
    for (const s of document.querySelectorAll('svg')) {
      if (s.closest('svg') !== s) continue;
      if (s.getAttribute('aria-hidden') === 'true') continue;
      if (!(s.getAttribute('aria-label') ?? '').trim() && !s.getAttribute('aria-labelledby')) out.push(`svg.${s.getAttribute('class')}`);
    }
    for (const c of document.querySelectorAll('canvas')) if (!(c.getAttribute('aria-label') ?? '').trim()) out.push(`canvas#${c.id}`);
    return out;
  });
}

/**
 * Visible text whose contrast with its background is under WCAG AA (4.5:1, or 3:1 for large text).
 * Backgrounds are the nearest opaque background colours, composited; disabled controls are exempt.
 */
export function lowContrastText(page: Page): Promise<Array<{ text: string; ratio: number; color: string; background: string }>> {
  return page.evaluate(() => {
    const parse = (c: string): [number, number, number, number] => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      if (!m) return [0, 0, 0, 0];
      const p = m[1]!.split(/[\s,/]+/).filter(Boolean).map(Number);
      return [p[0]!, p[1]!, p[2]!, p[3] ?? 1];
    };
    const over = (top: number[], bottom: number[]) => [0, 1, 2].map((i) => top[i]! * top[3]! + bottom[i]! * (1 - top[3]!));
    const lum = (c: number[]) => {
      const f = (v: number) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(c[0]!) + 0.7152 * f(c[1]!) + 0.0722 * f(c[2]!);
    };
    const background = (el: Element): number[] => {
      const layers: Array<[number, number, number, number]> = [];
      for (let e: Element | null = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c[3] > 0) layers.push(c);
        if (c[3] >= 1) break;
      }
      let out = [255, 255, 255];
      for (const l of layers.reverse()) out = over(l, out);
      return out;
    };
    const modal = document.querySelector('dialog[open]:modal');
    const scope = modal ?? document.body;
    const bad: Array<{ text: string; ratio: number; color: string; background: string }> = [];
    const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
    const seen = new Set<Element>();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || seen.has(el) || !n.textContent?.trim()) continue;
      seen.add(el);
      if (el.closest('svg, option, [aria-hidden="true"] .sr-only, .sr-only') || el.closest(':disabled')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || !el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
      const cs = getComputedStyle(el);
      const bg = background(el);
      const fg = over(parse(cs.color), bg);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      const ratio = (a! + 0.05) / (b! + 0.05);
      const size = parseFloat(cs.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) bad.push({ text: n.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100, color: cs.color, background: `rgb(${bg.map(Math.round).join(', ')})` });
    }
    return bad;
  });
}
