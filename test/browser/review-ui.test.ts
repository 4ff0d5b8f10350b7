// A reviewer's shift in a real browser: sign in, see the queue, claim, window/level a 16-bit scan (the
// canvas pixels change), material colours, draw and label a box, decide by keyboard, see the item leave
// the queue; a supervisor sees the resulting hold and releases it. Screenshots go to /tmp for a person to
// look at; timings (claim → complete paint, frame time while panning) to /tmp/tidewatch-ui-bench.json.
import { writeFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { putDeclaration, tyreDeclaration } from '../helpers/declarations.js';
import { png16 } from '../helpers/images.js';
import { pollUntil, pushScan } from '../helpers/push.js';
import { call, containerNo, containerScan, makeUser, pushAndRoute } from '../helpers/review.js';
import { startStack, type TestStack } from '../helpers/stack.js';
import { canvasSample, haveChromium, launch, signIn, waitForFullPaint } from './browser.js';

const W = 4000;
const H = 1200;
// A container's outline, cargo of organic material and a dense metallic block near the middle.
const inBox = (x: number, y: number, x0: number, y0: number, x1: number, y1: number) => x >= x0 && x < x1 && y >= y0 && y < y1;
const noise = (x: number, y: number) => ((x * 73856093) ^ (y * 19349663)) % 700;
const highAt = (x: number, y: number) =>
  (inBox(x, y, 1900, 450, 2150, 750) ? 3000 : inBox(x, y, 300, 200, 3700, 1000) ? 16000 + 6000 * Math.sin(x / 90) : inBox(x, y, 250, 150, 3750, 1050) ? 9000 : 60000) + noise(x, y);
const lowAt = (x: number, y: number) =>
  (inBox(x, y, 1900, 450, 2150, 750) ? 40 : inBox(x, y, 300, 200, 3700, 1000) ? 7000 + 3000 * Math.sin(x / 90) : inBox(x, y, 250, 150, 3750, 1050) ? 1500 : 58000) + noise(x, y);

let stack: TestStack;
let browser: Browser;
let bigContainer = '';
let terminalKey = '';

beforeAll(async () => {
  if (!haveChromium) return;
  stack = await startStack({ env: { REVIEW_EVENTS_POLL_MS: '200', DOUBLE_BLIND_RATE: '0' } });
  const db = stack.db.db;
  bigContainer = await containerNo('TWD', 100001);
  await Promise.all([makeUser(db, 'rita', 'reviewer', 'B', 'rita-password-1'), makeUser(db, 'sam', 'supervisor', undefined, 'sam-password-1')]);
  const sourceKey = (await gatewaysRepo(db).add('decl-source', 'declaration-source')).key;
  terminalKey = (await gatewaysRepo(db).add('tos', 'terminal')).key;
  await putDeclaration(stack.url, sourceKey, tyreDeclaration('DECL-UI-1', bigContainer));
  const [high, low] = await Promise.all([png16(W, H, highAt), png16(W, H, lowAt)]);
  const pushed = await pushScan(stack.url, { key: stack.key, metadata: containerScan('ui-big', bigContainer), images: { high, low } });
  expect(pushed.status, JSON.stringify(pushed.body)).toBe(202);
  await pushAndRoute(stack.url, stack.key, db, 'ui-small', await containerNo('TWD', 100002), 3);
  await pollUntil(() => db.query('SELECT routed_at FROM scans WHERE scan_id = $1', ['ui-big']), (r) => Boolean(r.rows[0]?.routed_at), 60_000, 100);
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** What the page's Content-Security-Policy refused, on any page of the walk (the UI must need nothing it forbids). */
const cspViolations: string[] = [];

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  page.on('pageerror', (err) => console.error('page error:', err.message));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    console.error('console:', m.text());
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('response', (r) => { if (r.status() >= 400) console.error('http', r.status(), r.url()); });
  return page;
}

describe.skipIf(!haveChromium)('review UI in chromium', () => {
  it('takes a reviewer from sign-in through imaging tools to a keyboard decision, and a supervisor to the hold', async () => {
    const page = await newPage();
    await signIn(page, stack.url, 'rita', 'rita-password-1');
    const row = page.locator(`tr[data-scan="ui-big"]`);
    await row.waitFor();
    await expect.poll(() => row.textContent()).toContain(bigContainer);
    await expect.poll(() => page.locator('.live').textContent()).toBe('live');
    await page.screenshot({ path: '/tmp/tidewatch-queue.png' });

    const claimedAt = Date.now();
    await row.getByRole('button', { name: 'Claim' }).click();
    await page.waitForSelector('#scan-canvas');
    await waitForFullPaint(page);
    const claimToPaintMs = Date.now() - claimedAt;
    await expect.poll(() => page.locator('#decl-h').isVisible()).toBe(true);
    expect(await page.locator('.lines').textContent()).toContain('4011100000');
    expect(await page.locator('#no-references').textContent()).toContain('No references yet');

    await page.screenshot({ path: '/tmp/tidewatch-review.png' });
    // window/level: a narrow window on the dense block's counts brings out what was black
    const before = await canvasSample(page);
    await page.locator('#s-window').evaluate((el: HTMLInputElement) => { el.value = '3000'; el.dispatchEvent(new Event('input')); });
    await page.locator('#s-level').evaluate((el: HTMLInputElement) => { el.value = '3500'; el.dispatchEvent(new Event('input')); });
    await waitForFullPaint(page);
    const windowed = await canvasSample(page);
    expect(Math.abs(windowed[0] - before[0])).toBeGreaterThan(20);
    await page.screenshot({ path: '/tmp/tidewatch-review-windowed.png' });

    // material colouring: the grey cargo turns to colour (organic orange, mixed green, metal blue)
    await page.keyboard.press('r');
    await page.keyboard.press('f');
    await expect.poll(() => page.locator('#t-material').getAttribute('aria-pressed')).toBe('true');
    await waitForFullPaint(page);
    const [r, g, b] = await canvasSample(page, 400);
    expect(Math.max(Math.abs(r - g), Math.abs(g - b), Math.abs(r - b))).toBeGreaterThan(15);

    // pan at 100%: frame times while the reviewer drags across the scan
    await page.keyboard.press('0');
    await page.evaluate(() => (window as unknown as { __viewer: { zoomBy(f: number): void; zoom: number } }).__viewer.zoomBy(1 / (window as unknown as { __viewer: { zoom: number } }).__viewer.zoom));
    await waitForFullPaint(page);
    await page.evaluate(() => { (window as unknown as { __viewer: { stats: { frameMs: number[] } } }).__viewer.stats.frameMs.length = 0; });
    const box = (await page.locator('#scan-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2);
    await page.mouse.down();
    const panStart = Date.now();
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 2, { steps: 60 });
    await page.mouse.up();
    const panMs = Date.now() - panStart;
    const frameMs = await page.evaluate(() => (window as unknown as { __viewer: { stats: { frameMs: number[] } } }).__viewer.stats.frameMs.slice());
    await waitForFullPaint(page);
    await page.keyboard.press('0');
    await waitForFullPaint(page);

    // draw a box, label it
    await page.keyboard.press('b');
    await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.4);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.6, { steps: 5 });
    await page.mouse.up();
    const label = page.getByLabel('Label of box 1');
    await label.waitFor();
    await label.fill('concealed compartment');
    await label.press('Enter');
    await page.screenshot({ path: '/tmp/tidewatch-review-material-box.png' });

    // decide by keyboard: I opens the dialog on "Inspect", Enter submits, the item leaves the queue
    await page.keyboard.press('i');
    await expect.poll(() => page.locator('dialog[open] input[value=inspect]').isChecked()).toBe(true);
    await page.screenshot({ path: '/tmp/tidewatch-decision.png' });
    await page.keyboard.press('Enter');
    await page.waitForSelector('#queue-h');
    await expect.poll(() => page.locator('tr[data-scan="ui-big"]').count()).toBe(0);
    await expect.poll(() => page.locator('tr[data-scan="ui-small"]').count()).toBe(1);
    const ledger = await stack.db.db.query<{ decision: string }>("SELECT decision FROM verdicts WHERE scan_id = 'ui-big' ORDER BY id");
    expect(ledger.rows.map((v) => v.decision)).toEqual(['review', 'hold']);

    // the supervisor sees the lock instruction and releases it with a reason
    const sup = await newPage();
    await signIn(sup, stack.url, 'sam', 'sam-password-1');
    await sup.keyboard.press('h');
    const hold = sup.locator('tr', { hasText: bigContainer });
    await hold.waitFor();
    await expect.poll(() => hold.locator('.lock').textContent()).toBe('requested');
    // the terminal confirms the lock; the supervisor starts the inspection, then releases
    const lockId = (await hold.getAttribute('data-hold'))!;
    expect((await call(stack.url, 'POST', `/v1/holds/${lockId}/ack`, terminalKey)).status).toBe(200);
    await sup.locator('#hold-state').selectOption('acknowledged');
    await hold.getByRole('button', { name: 'Start inspection' }).click();
    await sup.locator('#hold-state').selectOption('inspecting');
    await expect.poll(() => hold.locator('.lock').textContent()).toBe('inspecting');
    await sup.screenshot({ path: '/tmp/tidewatch-holds.png' });
    await hold.getByRole('button', { name: 'Release…' }).click();
    await sup.getByLabel(/Reason/).fill('Opened at the gate: tyres as declared');
    await sup.locator('#release-submit').click();
    await sup.locator('#hold-state').selectOption('');
    await expect.poll(() => hold.locator('.lock').textContent()).toBe('released');
    await sup.keyboard.press('d');
    await sup.waitForSelector('svg.chart');
    await sup.screenshot({ path: '/tmp/tidewatch-dashboard.png' });
    // the whole walk (queue, review, decision, holds, dashboard) ran under the UI's CSP, which it never broke
    const ui = await fetch(`${stack.url}/review/`);
    expect(ui.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(ui.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect([ui.headers.get('x-frame-options'), ui.headers.get('x-content-type-options')]).toEqual(['DENY', 'nosniff']);
    expect(cspViolations).toEqual([]);

    const sorted = [...frameMs].sort((a, b) => a - b);
    const bench = {
      scan: `${W}×${H} 16-bit dual energy`,
      claimToCompletePaintMs: claimToPaintMs,
      pan: { frames: frameMs.length, wallMs: panMs, medianFrameMs: sorted[Math.floor(sorted.length / 2)], p95FrameMs: sorted[Math.floor(sorted.length * 0.95)], maxFrameMs: sorted.at(-1) },
    };
    await writeFile('/tmp/tidewatch-ui-bench.json', JSON.stringify(bench, null, 2));
    expect(frameMs.length).toBeGreaterThan(10);
  }, 180_000);
});
