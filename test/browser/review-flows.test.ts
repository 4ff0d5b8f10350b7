// Review-screen flows in a real browser, checked by what the reviewer sees:
// - a machine reason with a region is a button that zooms and pans the scan to its box and highlights it;
// - a trainee's (tier C) decision goes through a confirm step and waits for a senior, who confirms it in
//   the UI; the final verdict is read back from the API;
// - the queue follows the server over SSE: a new scan appears, and another reviewer's claim shows, without
//   a reload.
// Screenshots go to /tmp/tidewatch-*.png for a person to look at.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, containerNo, makeUser, pushAndRoute, type TestUser } from '../helpers/review.js';
import { getJson, pollUntil } from '../helpers/push.js';
import { startStack, type TestStack } from '../helpers/stack.js';
import { lowContrastText, unnamedInAxTree } from './a11y.js';
import { haveChromium, launch, signIn, waitForFullPaint } from './browser.js';
import { groundTruthDetector, parcelWithAmmunition, pushParcel, viewState, watchPage, type ViewState } from './fixtures.js';

const sample = parcelWithAmmunition();
let stack: TestStack;
let browser: Browser;
let bob: TestUser;

beforeAll(async () => {
  if (!haveChromium) return;
  stack = await startStack({ runtime: groundTruthDetector(sample), env: { REVIEW_EVENTS_POLL_MS: '200', DOUBLE_BLIND_RATE: '0' } });
  const db = stack.db.db;
  [, , , , bob] = await Promise.all([
    makeUser(db, 'rita', 'reviewer', 'B', 'rita-password-1'),
    makeUser(db, 'tara', 'reviewer', 'C', 'tara-password-1'),
    makeUser(db, 'alex', 'reviewer', 'A', 'alex-password-1'),
    makeUser(db, 'quinn', 'reviewer', 'B', 'quinn-password-1'),
    makeUser(db, 'bob', 'reviewer', 'B', 'bob-password-1'),
  ]);
  await pushParcel(stack.url, stack.key, db, 'rf-parcel', 'SF7001', sample);
  await pushAndRoute(stack.url, stack.key, db, 'rf-trainee', await containerNo('RFT', 1), 3);
  browser = await launch();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1500, height: 900 } });
  return watchPage(await context.newPage());
}

/** Mean RGB of a few device pixels of the scan canvas around (x, y) in CSS pixels. */
function canvasPixel(page: Page, x: number, y: number): Promise<[number, number, number]> {
  return page.evaluate(([cx, cy]) => {
    const c = document.getElementById('scan-canvas') as HTMLCanvasElement;
    const k = c.width / c.clientWidth;
    const d = c.getContext('2d')!.getImageData(Math.round(cx! * k) - 1, Math.round(cy! * k) - 1, 3, 3).data;
    const s = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) for (let j = 0; j < 3; j++) s[j]! += d[i + j]!;
    return s.map((v) => Math.round(v / 9)) as [number, number, number];
  }, [x, y]);
}

const boxOf = (label: string) => sample.boxes.find((b) => b.label === label)!.box;
/** The box on the canvas in CSS pixels for a view (the parcel's tiles are as wide as its rendering). */
function onScreen(v: ViewState, b: readonly number[]) {
  const x = (ix: number) => (ix - v.cx) * v.scale + v.width / 2;
  const y = (iy: number) => (iy - v.cy) * v.scale + v.height / 2;
  return { left: x(b[0]!), top: y(b[1]!), right: x(b[2]!), bottom: y(b[3]!) };
}

describe.skipIf(!haveChromium)('review flows in chromium', () => {
  it('takes the reviewer from a machine reason to its region: zoomed, centred and highlighted', async () => {
    const page = await newPage();
    await signIn(page, stack.url, 'rita', 'rita-password-1');
    await page.locator('tr[data-scan="rf-parcel"]').getByRole('button', { name: /^Claim/ }).click();
    await page.waitForSelector('#scan-canvas');
    await waitForFullPaint(page);
    const fitted = await viewState(page);
    // a parcel's dual-energy pair opens in material colours, as parcel screeners work: coloured pixels on the
    // canvas, and G turns them grey
    const coloured = () => page.evaluate(() => {
      const c = document.getElementById('scan-canvas') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (Math.max(d[i]!, d[i + 1]!, d[i + 2]!) - Math.min(d[i]!, d[i + 1]!, d[i + 2]!) > 40) n++;
      return n / (d.length / 4);
    });
    expect(await page.locator('#t-material').getAttribute('aria-pressed')).toBe('true');
    expect(await coloured()).toBeGreaterThan(0.05);
    await page.keyboard.press('g');
    await expect.poll(() => page.locator('#t-grey').getAttribute('aria-pressed')).toBe('true');
    await waitForFullPaint(page);
    expect(await coloured()).toBeLessThan(0.01);
    await page.keyboard.press('f');
    await expect.poll(() => page.locator('#t-material').getAttribute('aria-pressed')).toBe('true');
    await waitForFullPaint(page);

    // every reason with a model box is a button naming its region; the prohibited item's comes first
    const ammo = page.getByRole('button', { name: /Prohibited item \(ammunition\)/ });
    const scissors = page.getByRole('button', { name: /Restricted item \(scissors\)/ });
    await expect.poll(() => ammo.count()).toBe(1);
    expect(await scissors.count()).toBe(1);
    expect(await ammo.textContent()).toMatch(/show 1 region on the image/);
    // a reason without a region is text, not a control
    expect(await page.locator('.reason-text button').count()).toBe(0);
    await page.screenshot({ path: '/tmp/tidewatch-reasons-fitted.png' });

    await ammo.click();
    await waitForFullPaint(page);
    const zoomed = await viewState(page);
    expect(zoomed.scale).toBeGreaterThan(fitted.scale * 1.5);
    const box = onScreen(zoomed, boxOf('ammunition'));
    // the box is wholly in view and about in the middle of it
    expect(box.left).toBeGreaterThan(0);
    expect(box.top).toBeGreaterThan(0);
    expect(box.right).toBeLessThan(zoomed.width);
    expect(box.bottom).toBeLessThan(zoomed.height);
    expect(Math.abs((box.left + box.right) / 2 - zoomed.width / 2)).toBeLessThan(2);
    expect(Math.abs((box.top + box.bottom) / 2 - zoomed.height / 2)).toBeLessThan(2);
    // it fills a good part of the view (was a small part of the fitted image)
    expect(Math.max((box.right - box.left) / zoomed.width, (box.bottom - box.top) / zoomed.height)).toBeGreaterThan(0.4);

    // the highlight over the canvas sits on that box and is visible
    const overlay = page.locator('#focus-layer .focus-box');
    await expect.poll(() => overlay.count()).toBe(1);
    expect(await overlay.isVisible()).toBe(true);
    expect(await overlay.getAttribute('aria-label')).toMatch(/ammunition 91%/);
    const canvasRect = (await page.locator('#scan-canvas').boundingBox())!;
    const o = (await overlay.boundingBox())!;
    expect(Math.abs(o.x - (canvasRect.x + box.left))).toBeLessThan(3);
    expect(Math.abs(o.y - (canvasRect.y + box.top))).toBeLessThan(3);
    expect(Math.abs(o.width - (box.right - box.left))).toBeLessThan(4);
    expect(Math.abs(o.height - (box.bottom - box.top))).toBeLessThan(4);
    // and the canvas itself strokes the box in the highlight colour (#ffd84d), not the plain box red
    const edge = await canvasPixel(page, (box.left + box.right) / 2, box.bottom);
    expect(edge[0]).toBeGreaterThan(200);
    expect(edge[1]).toBeGreaterThan(170);
    expect(edge[2]).toBeLessThan(130);
    expect(await ammo.getAttribute('aria-current')).toBe('true');
    expect(await page.locator('#viewer-announce').textContent()).toContain('ammunition');
    await page.screenshot({ path: '/tmp/tidewatch-reason-ammunition.png' });

    // the scissors' reason by keyboard (its number): the view moves to the other box
    const n = await scissors.getAttribute('data-reason');
    await page.locator('#scan-canvas').focus();
    await page.keyboard.press(String(Number(n) + 1));
    await waitForFullPaint(page);
    const moved = await viewState(page);
    const sb = onScreen(moved, boxOf('scissors'));
    expect(Math.abs((sb.left + sb.right) / 2 - moved.width / 2)).toBeLessThan(2);
    expect(sb.left).toBeGreaterThan(0);
    expect(sb.right).toBeLessThan(moved.width);
    await expect.poll(() => overlay.getAttribute('data-reason')).toBe(n);
    expect(await scissors.getAttribute('aria-current')).toBe('true');
    expect(await ammo.getAttribute('aria-current')).toBeNull();

    // the highlight follows a pan, and Escape clears it
    await page.keyboard.press('ArrowLeft');
    await waitForFullPaint(page);
    const panned = onScreen(await viewState(page), boxOf('scissors'));
    const o2 = (await overlay.boundingBox())!;
    expect(Math.abs(o2.x - (canvasRect.x + panned.left))).toBeLessThan(3);
    await page.screenshot({ path: '/tmp/tidewatch-reason-scissors.png' });
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('#focus-layer').isVisible()).toBe(false);
    await page.context().close();
  });

  it("holds a trainee's decision behind a confirm step until a senior confirms it in the UI", async () => {
    const db = stack.db.db;
    const trainee = await newPage();
    await signIn(trainee, stack.url, 'tara', 'tara-password-1');
    expect(await trainee.locator('.who').textContent()).toContain('tier C');
    await trainee.locator('tr[data-scan="rf-trainee"]').getByRole('button', { name: /^Claim/ }).click();
    await trainee.waitForSelector('#scan-canvas');
    await waitForFullPaint(trainee);

    // C opens the decision on Clear; Enter does not send it: a confirm step says a senior will confirm
    await trainee.keyboard.press('c');
    const dialog = trainee.locator('dialog[open]');
    await expect.poll(() => dialog.locator('input[value=clear]').isChecked()).toBe(true);
    expect(await dialog.getByRole('button', { name: /Continue/ }).count()).toBe(1);
    await trainee.keyboard.press('Enter');
    const step = dialog.locator('.confirm-step');
    await step.waitFor();
    expect(await step.textContent()).toMatch(/Confirm: Clear.*senior reviewer will confirm this decision before it takes effect/s);
    expect(await dialog.getByRole('button', { name: /Confirm decision/ }).evaluate((b) => b === document.activeElement)).toBe(true);
    await trainee.screenshot({ path: '/tmp/tidewatch-trainee-confirm-step.png' });
    expect(await unnamedInAxTree(trainee)).toEqual([]);
    expect(await lowContrastText(trainee)).toEqual([]);
    // nothing was sent yet
    expect((await db.query("SELECT count(*)::int AS n FROM review_decisions WHERE scan_id = 'rf-trainee'")).rows[0]).toEqual({ n: 0 });

    await trainee.keyboard.press('Enter');
    await trainee.waitForSelector('#queue-h');
    await expect.poll(() => trainee.locator('#toasts').textContent()).toMatch(/waits for a senior reviewer's confirmation/);
    // the item waits: no reviewer verdict yet, the state is awaiting-confirmation, and nobody can claim it
    const pending = await db.query<{ state: string }>("SELECT state FROM review_items WHERE scan_id = 'rf-trainee'");
    expect(pending.rows[0]!.state).toBe('awaiting-confirmation');
    const before = await getJson(stack.url, '/v1/scans/rf-trainee', stack.key);
    expect((before.body.verdict as { source: string; decision: string })).toMatchObject({ source: 'machine', decision: 'review' });
    const row = trainee.locator('tr[data-scan="rf-trainee"]');
    await expect.poll(() => row.textContent()).toContain('waiting for a senior');
    expect(await row.getByRole('button').count()).toBe(0);
    await trainee.screenshot({ path: '/tmp/tidewatch-trainee-queue.png' });

    // a tier-A reviewer has it among their items, opens it, sees what the trainee decided, and agrees
    const senior = await newPage();
    await signIn(senior, stack.url, 'alex', 'alex-password-1');
    const mine = senior.locator('section[aria-labelledby="mine-h"] tr[data-scan="rf-trainee"]');
    await mine.waitFor();
    await mine.getByRole('button', { name: /^Confirm/ }).click();
    const panel = senior.locator('.confirm-panel');
    await panel.waitFor();
    await expect.poll(() => senior.locator('#pending-decision').textContent()).toMatch(/Clear by tara \(tier C\) — “Image consistent with the declaration”/);
    await waitForFullPaint(senior);
    await senior.screenshot({ path: '/tmp/tidewatch-senior-confirm.png' });
    expect(await unnamedInAxTree(senior)).toEqual([]);
    expect(await lowContrastText(senior)).toEqual([]);
    expect(await panel.getByRole('button', { name: 'Agree', exact: true }).getAttribute('aria-keyshortcuts')).toBe('A');
    await senior.getByLabel('Comment').fill('Agreed: tyres as declared');
    await panel.getByRole('button', { name: /^Agree/ }).click();
    await senior.waitForSelector('#queue-h');
    await expect.poll(() => senior.locator('tr[data-scan="rf-trainee"]').count()).toBe(0);

    // the final verdict, from the API: the trainee's clear, confirmed
    const after = await pollUntil(() => getJson(stack.url, '/v1/scans/rf-trainee', stack.key), (r) => (r.body.verdict as { source: string }).source !== 'machine', 10_000);
    expect(after.body.verdict).toMatchObject({ decision: 'clear' });
    expect((after.body.verdict as { source: string }).source).not.toBe('machine');
    const final = await db.query<{ state: string; final_decision: string }>("SELECT state, final_decision FROM review_items WHERE scan_id = 'rf-trainee'");
    expect(final.rows[0]).toEqual({ state: 'decided', final_decision: 'clear' });
    const decisions = await db.query<{ status: string }>("SELECT status FROM review_decisions WHERE scan_id = 'rf-trainee'");
    expect(decisions.rows.map((d) => d.status)).toEqual(['counted']);
    await trainee.context().close();
    await senior.context().close();
  });

  it("sends a trainee's decision to a supervisor when the senior disagrees, and the queue says so", async () => {
    const db = stack.db.db;
    const [tara, sam] = await Promise.all([makeUser(db, 'tara2', 'reviewer', 'C'), makeUser(db, 'sam', 'supervisor', undefined, 'sam-password-1')]);
    await pushAndRoute(stack.url, stack.key, db, 'rf-disagree', await containerNo('RFD', 2), 4);
    expect((await call(stack.url, 'POST', '/v1/review/items/rf-disagree/claim', tara.token)).status).toBe(200);
    const decided = await call(stack.url, 'POST', '/v1/review/items/rf-disagree/decision', tara.token, { decision: 'clear', reason: 'Tyres as declared' });
    expect(decided.body).toMatchObject({ state: 'awaiting-confirmation' });

    const senior = await newPage();
    await signIn(senior, stack.url, 'alex', 'alex-password-1');
    const mine = senior.locator('section[aria-labelledby="mine-h"] tr[data-scan="rf-disagree"]');
    await mine.waitFor();
    await mine.getByRole('button', { name: /^Confirm/ }).click();
    await senior.locator('.confirm-panel').waitFor();
    await expect.poll(() => senior.locator('#pending-decision').textContent()).toMatch(/Clear by tara2 \(tier C\)/);
    await senior.getByLabel('Comment').fill('Dense block behind the tyres: open it');
    await senior.locator('#confirm-disagree').click();
    await senior.waitForSelector('#queue-h');
    await expect.poll(() => senior.locator('#toasts').textContent()).toMatch(/Disagreed: .* escalated/);

    // escalated: still the machine's verdict, and a reviewer's queue shows it with a supervisor, unclaimable
    const item = await db.query<{ state: string }>("SELECT state FROM review_items WHERE scan_id = 'rf-disagree'");
    expect(item.rows[0]!.state).toBe('escalated');
    expect(((await getJson(stack.url, '/v1/scans/rf-disagree', stack.key)).body.verdict as { source: string }).source).toBe('machine');
    const row = senior.locator('tr[data-scan="rf-disagree"]');
    await expect.poll(() => row.textContent()).toContain('with a supervisor');
    expect(await row.getByRole('button').count()).toBe(0);

    // the supervisor has it among their items, ready to open
    const sup = await newPage();
    await signIn(sup, stack.url, 'sam', 'sam-password-1');
    const supRow = sup.locator('section[aria-labelledby="mine-h"] tr[data-scan="rf-disagree"]');
    await supRow.waitFor();
    expect(await supRow.textContent()).toContain('escalated');
    expect(await supRow.getByRole('button', { name: /^Open/ }).count()).toBe(1);
    await sup.screenshot({ path: '/tmp/tidewatch-escalated-supervisor.png' });
    await senior.context().close();
    await sup.context().close();
  });

  it('updates the open queue over SSE: a new scan appears and another reviewer\'s claim shows, without a reload', async () => {
    const page = await newPage();
    await signIn(page, stack.url, 'quinn', 'quinn-password-1');
    await page.locator('#queue-h').waitFor();
    await expect.poll(() => page.locator('.live').textContent()).toBe('live');
    await page.evaluate(() => { (window as unknown as { __sameDocument: boolean }).__sameDocument = true; });
    const navigations: string[] = [];
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations.push(f.url()); });
    expect(await page.locator('tr[data-scan="rf-live"]').count()).toBe(0);

    // a gateway pushes a scan that needs review; the pipeline routes it; the open page shows it
    const pushedAt = Date.now();
    await pushAndRoute(stack.url, stack.key, stack.db.db, 'rf-live', await containerNo('RFL', 7), 9);
    const row = page.locator('tr[data-scan="rf-live"]');
    await row.waitFor({ timeout: 10_000 });
    const appearedMs = Date.now() - pushedAt;
    // well inside the page's 30 s safety poll: it came from the event stream
    expect(appearedMs).toBeLessThan(15_000);
    expect(await row.getByRole('button', { name: /^Claim/ }).count()).toBe(1);
    await page.screenshot({ path: '/tmp/tidewatch-live-new.png' });

    // another reviewer claims it through the API: the row says so and loses its Claim button
    expect((await call(stack.url, 'POST', '/v1/review/items/rf-live/claim', bob.token)).status).toBe(200);
    await expect.poll(() => row.locator('.claimed').textContent(), { timeout: 10_000 }).toBe('claimed by bob');
    expect(await row.getByRole('button', { name: /^Claim/ }).count()).toBe(0);
    expect(await row.locator('td.state').textContent()).toBe('claimed');
    await page.screenshot({ path: '/tmp/tidewatch-live-claimed.png' });
    // and gives it back: claimable again
    expect((await call(stack.url, 'POST', '/v1/review/items/rf-live/release', bob.token)).status).toBe(204);
    await expect.poll(() => row.getByRole('button', { name: /^Claim/ }).count(), { timeout: 10_000 }).toBe(1);
    expect(await row.locator('td.state').textContent()).toBe('open');

    // all of it in the same document: no reload, no navigation
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    expect(navigations).toEqual([]);
    await page.context().close();
  });

  it('a claim left before its details arrived goes back to the queue at once, not when its lease lapses', async () => {
    await pushAndRoute(stack.url, stack.key, stack.db.db, 'rf-quit', await containerNo('RFQ', 1), 7);
    const page = await newPage();
    // the item's details are held back until the reviewer has left the screen
    let letGo: () => void = () => {};
    const held = new Promise<void>((r) => (letGo = r));
    await page.route((u) => u.pathname === '/v1/review/items/rf-quit', async (route) => {
      if (route.request().method() !== 'GET') return route.continue();
      await held;
      await route.continue();
    });
    await signIn(page, stack.url, 'quinn', 'quinn-password-1');
    const row = page.locator('tr[data-scan="rf-quit"]');
    await row.waitFor();
    await row.getByRole('button', { name: 'Claim' }).click();
    await page.waitForSelector('#scan-canvas');
    const claimedBy = async () => (await stack.db.db.query<{ claimed_by: string | null }>(`SELECT claimed_by FROM review_items WHERE scan_id = 'rf-quit'`)).rows[0]!.claimed_by;
    expect(await claimedBy()).not.toBeNull();
    await page.evaluate(() => (location.hash = '#/queue'));
    await page.waitForSelector('#queue-h');
    letGo();
    await expect.poll(claimedBy, { timeout: 5_000 }).toBeNull();
    await page.context().close();
  });
});
