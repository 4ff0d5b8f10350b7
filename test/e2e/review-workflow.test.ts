// People sign in and work the review queue: login limits, queue order, leases, decisions by tier,
// trainee confirmation, double-blind escalation, live events, and the verdict events they leave behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { putDeclaration, tyreDeclaration } from '../helpers/declarations.js';
import { call, containerNo, makeUser, pushAndRoute, type TestUser } from '../helpers/review.js';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
let a: TestUser, b: TestUser, c: TestUser, b2: TestUser, sup: TestUser, risk: TestUser;
let sourceKey: string;

beforeAll(async () => {
  stack = await startStack({
    database: 'postgres',
    env: { LOGIN_RATE_LIMIT: '6', LOGIN_RATE_WINDOW_MS: '60000', LOGIN_MAX_FAILURES: '3', LOGIN_LOCKOUT_MS: '60000', REVIEW_LEASE_MS: '400', REVIEW_EVENTS_POLL_MS: '100', DOUBLE_BLIND_RATE: '0' },
  });
  const db = stack.db.db;
  [a, b, c, b2, sup, risk] = await Promise.all([
    makeUser(db, 'anna', 'reviewer', 'A'),
    makeUser(db, 'bert', 'reviewer', 'B'),
    makeUser(db, 'cleo', 'reviewer', 'C'),
    makeUser(db, 'bo', 'reviewer', 'B'),
    makeUser(db, 'sue', 'supervisor'),
    makeUser(db, 'rick', 'risk-control'),
  ]);
  sourceKey = (await gatewaysRepo(db).add('decl-source', 'declaration-source')).key;
});
afterAll(async () => stack?.close());

const login = (username: string, password: string, ip?: string) =>
  fetch(`${stack.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...(ip && { 'x-forwarded-for': ip }) }, body: JSON.stringify({ username, password }) });

describe('sign-in', () => {
  it('logs in with the right password, answers me, logs out (the token stops working)', async () => {
    const res = await login('anna', 'pw-anna-secret');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; user: { username: string; role: string; tier: string } };
    expect(body.token).toMatch(/^tws_/);
    expect(body.user).toMatchObject({ username: 'anna', role: 'reviewer', tier: 'A' });
    expect((await call(stack.url, 'GET', '/v1/auth/me', body.token)).body).toMatchObject({ username: 'anna', tier: 'A' });
    expect((await call(stack.url, 'POST', '/v1/auth/logout', body.token)).status).toBe(204);
    expect((await call(stack.url, 'GET', '/v1/auth/me', body.token)).status).toBe(401);
  });

  it('401 LOGIN_FAILED for a wrong password or unknown user; 423 ACCOUNT_LOCKED after 3 failures; then 429 LOGIN_RATE_LIMITED', async () => {
    await makeUser(stack.db.db, 'lockme', 'reviewer', 'B');
    const wrong = await login('lockme', 'nope');
    expect([wrong.status, ((await wrong.json()) as { code: string }).code]).toEqual([401, 'LOGIN_FAILED']);
    expect((await login('nobody', 'nope')).status).toBe(401);
    expect((await login('lockme', 'nope')).status).toBe(401);
    const locked = await login('lockme', 'nope');
    expect([locked.status, ((await locked.json()) as { code: string }).code]).toEqual([423, 'ACCOUNT_LOCKED']);
    // Locked: even the right password is refused.
    expect((await login('lockme', 'pw-lockme-secret')).status).toBe(423);
    // The address made 6 attempts (1 earlier success included) in the window: the next is rate-limited.
    const limited = await login('anna', 'pw-anna-secret');
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { code: string }).code).toBe('LOGIN_RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('queue, claims and decisions', () => {
  let cn: string[];
  beforeAll(async () => {
    cn = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => containerNo('TWR', 100 + i)));
    // Scan 2's declaration is perishable, scan 3 is AEO advanced: both jump the plain scan 1.
    await putDeclaration(stack.url, sourceKey, tyreDeclaration('D-PER', cn[1]!, { perishable: true, enterprise: { id: 'E-9', creditLevel: 'ordinary' } }));
    await putDeclaration(stack.url, sourceKey, tyreDeclaration('D-AEO', cn[2]!));
    await Promise.all(cn.map((no, i) => pushAndRoute(stack.url, stack.key, stack.db.db, `rv-${i + 1}`, no, i + 1)));
  });

  it('lists undecided items in queue order with SLA deadlines', async () => {
    const q = await call<{ items: Array<{ scanId: string; badges: string[]; slaDeadline: string; overdue: boolean; state: string }> }>(stack.url, 'GET', '/v1/review/queue', b.token);
    expect(q.status).toBe(200);
    const ids = q.body.items.map((i) => i.scanId);
    expect(ids.indexOf('rv-2')).toBeLessThan(ids.indexOf('rv-3'));
    expect(ids.indexOf('rv-3')).toBeLessThan(ids.indexOf('rv-1'));
    const per = q.body.items.find((i) => i.scanId === 'rv-2')!;
    expect(per.badges).toContain('perishable');
    expect(q.body.items.find((i) => i.scanId === 'rv-3')!.badges).toContain('aeo');
    expect(per.overdue).toBe(false);
    expect(Date.parse(per.slaDeadline)).toBeGreaterThan(Date.now());
    // Past its deadline an item is raised as overdue.
    await stack.db.db.query(`UPDATE review_items SET sla_deadline = now() - interval '1 minute' WHERE scan_id = 'rv-1'`);
    const again = await call<{ items: Array<{ scanId: string; overdue: boolean }> }>(stack.url, 'GET', '/v1/review/queue', b.token);
    expect(again.body.items.find((i) => i.scanId === 'rv-1')!.overdue).toBe(true);
  });

  it('one claim wins; the lease expires and the item goes back; decide needs a live lease', async () => {
    const [x, y] = await Promise.all([call(stack.url, 'POST', '/v1/review/items/rv-1/claim', b.token), call(stack.url, 'POST', '/v1/review/items/rv-1/claim', b2.token)]);
    expect([x.status, y.status].sort()).toEqual([200, 409]);
    const loser = x.status === 409 ? x : y;
    expect(loser.body.code).toBe('ALREADY_CLAIMED');
    const winner = x.status === 200 ? b : b2;
    const other = winner === b ? b2 : b;
    await new Promise((r) => setTimeout(r, 500)); // lease is 400 ms here
    expect((await call(stack.url, 'POST', '/v1/review/items/rv-1/decision', winner.token, { decision: 'clear', reason: 'tyres as declared' })).body.code).toBe('LEASE_LOST');
    expect((await call(stack.url, 'POST', '/v1/review/items/rv-1/claim', other.token)).status).toBe(200);
    const renewed = await call<{ leaseExpiresAt: string }>(stack.url, 'POST', '/v1/review/items/rv-1/renew', other.token);
    expect(renewed.status).toBe(200);
    const d = await call(stack.url, 'POST', '/v1/review/items/rv-1/decision', other.token, { decision: 'clear', reason: 'tyres as declared' });
    expect(d.body).toMatchObject({ state: 'decided' });
    // The machine's verdict stays; the reviewer's is a new event after it.
    const scan = await call<{ history: Array<{ source: string; decision: string }>; verdict: { source: string } }>(stack.url, 'GET', '/v1/scans/rv-1', sup.token);
    expect(scan.body.history.map((v) => [v.source, v.decision])).toEqual([['machine', 'review'], ['reviewer', 'clear']]);
  });

  it("a trainee's decision waits for a tier-A confirmation; a tier-B reviewer may not confirm", async () => {
    expect((await call(stack.url, 'POST', '/v1/review/items/rv-2/claim', c.token)).status).toBe(200);
    const boxes = [{ label: 'tyre', box: [1, 2, 30, 40] }];
    const d = await call(stack.url, 'POST', '/v1/review/items/rv-2/decision', c.token, { decision: 'clear', reason: 'matches', boxes });
    expect(d.body).toEqual({ state: 'awaiting-confirmation' });
    expect((await call(stack.url, 'POST', '/v1/review/items/rv-2/confirm', b.token, { agree: true })).status).toBe(403);
    const mine = await call<{ items: Array<{ scanId: string }> }>(stack.url, 'GET', '/v1/review/mine', a.token);
    expect(mine.body.items.map((i) => i.scanId)).toContain('rv-2');
    // the confirmer names the decision they saw: another id (a decision they did not see) is refused, nothing changes
    const shown = await call<{ decisions: Array<{ id: string; status: string }> }>(stack.url, 'GET', '/v1/review/items/rv-2', a.token);
    const pending = shown.body.decisions.find((x) => x.status === 'pending-confirmation')!;
    const stale = await call(stack.url, 'POST', '/v1/review/items/rv-2/confirm', a.token, { agree: true, decisionId: '999999' });
    expect([stale.status, stale.body.code]).toEqual([409, 'CONFIRMATION_STALE']);
    const ok = await call(stack.url, 'POST', '/v1/review/items/rv-2/confirm', a.token, { agree: true, decisionId: pending.id });
    expect(ok.body).toMatchObject({ state: 'decided' });
    const verdicts = await stack.db.db.query<{ source: string; actor: string }>(`SELECT source, actor FROM verdicts WHERE scan_id = 'rv-2' ORDER BY id`);
    expect(verdicts.rows).toEqual([{ source: 'machine', actor: 'machine' }, { source: 'reviewer', actor: 'cleo' }]);
  });

  it('a trainee decision the senior rejects escalates to a supervisor, who decides', async () => {
    await call(stack.url, 'POST', '/v1/review/items/rv-3/claim', c.token);
    await call(stack.url, 'POST', '/v1/review/items/rv-3/decision', c.token, { decision: 'clear', reason: 'fine' });
    expect((await call(stack.url, 'POST', '/v1/review/items/rv-3/confirm', a.token, { agree: false, comment: 'look at the left end' })).body).toMatchObject({ state: 'escalated' });
    expect((await call(stack.url, 'POST', '/v1/review/items/rv-3/claim', b.token)).body.code).toBe('NOT_CLAIMABLE');
    expect((await call(stack.url, 'POST', '/v1/review/items/rv-3/claim', sup.token)).status).toBe(200);
    const detail = await call<{ decisions: Array<{ reviewer: string; status: string }> }>(stack.url, 'GET', '/v1/review/items/rv-3', sup.token);
    expect(detail.body.decisions.map((d) => [d.reviewer, d.status])).toEqual([['cleo', 'rejected']]);
    const d = await call(stack.url, 'POST', '/v1/review/items/rv-3/decision', sup.token, { decision: 'inspect', reason: 'dense block at the left end' });
    expect(d.body).toMatchObject({ state: 'decided' });
    const last = await stack.db.db.query<{ source: string; decision: string }>(`SELECT source, decision FROM verdicts WHERE scan_id = 'rv-3' ORDER BY id DESC LIMIT 1`);
    expect(last.rows[0]).toEqual({ source: 'supervisor', decision: 'hold' });
    // `inspect` on a container locks it.
    const lock = await stack.db.db.query<{ state: string }>(`SELECT state FROM lock_instructions WHERE scan_id = 'rv-3'`);
    expect(lock.rows[0]?.state).toBe('requested');
  });

  it('live events: the stream sees a claim as a queue-changed event', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${stack.url}/v1/review/events`, { headers: { authorization: `Bearer ${b.token}` }, signal: ctrl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const read = (async () => {
      while (!text.includes('"scanId":"rv-4"')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    })();
    await call(stack.url, 'POST', '/v1/review/items/rv-4/claim', b.token);
    await Promise.race([read, new Promise((r) => setTimeout(r, 3000))]);
    ctrl.abort();
    expect(text).toContain('"type":"queue-changed","scanId":"rv-4"');
  });
});
