// Holds and the terminal: a threat locks the container, the lock message reaches the terminal as a
// signed webhook, the gate never says yes while a hold is open, only a supervisor releases (with a
// reason), and the outbox delivers in order through failures, dead-letters, and retries on request.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelCard, ModelRuntime } from '../../models/runtime/types.js';
import { verifyWebhook } from '../../pipeline/webhook-signature.js';
import { auditRepo } from '../../storage/repos/audit.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { pollUntil } from '../helpers/push.js';
import { call, containerNo, makeUser, pushAndRoute, type TestUser } from '../helpers/review.js';
import { startStack, type TestStack } from '../helpers/stack.js';

const TOS_SECRET = 'tos-shared-secret-for-tests-0123456789';

/** Sees a firearm in every container: every container scan is held. */
const threatRuntime: ModelRuntime = {
  modelsFor: (m) => (m === 'container-xray' ? [{ name: 'fake-threat' } as ModelCard] : []),
  infer: async () => [{ model: 'fake-threat', version: '1', task: 'detect', detections: [{ label: 'firearm', score: 0.99, box: [10, 10, 20, 20] }] }],
  close: async () => {},
};

interface Received {
  path: string;
  id: string;
  topic: string;
  payload: Record<string, unknown>;
}

/** The terminal (and a risk-control subscriber): verifies every signature; answers 500 while told to. */
const receiver = {
  server: null as Server | null,
  url: '',
  failNext: 0,
  failAlways: false,
  subscriptionSecret: '',
  received: [] as Received[],
  refused: [] as string[],
  attempts: 0,
};

let stack: TestStack;
let sup: TestUser, rev: TestUser, risk: TestUser;
let terminalKey: string;

beforeAll(async () => {
  receiver.server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const secret = req.url === '/sub' ? receiver.subscriptionSecret : TOS_SECRET;
      const check = verifyWebhook(secret, req.headers['x-tidewatch-signature'] as string | undefined, body);
      if (!check.ok) {
        receiver.refused.push(check.reason);
        res.writeHead(401).end();
        return;
      }
      receiver.attempts++;
      if (req.url !== '/sub' && (receiver.failAlways || receiver.failNext > 0)) {
        receiver.failNext = Math.max(0, receiver.failNext - 1);
        res.writeHead(500).end('busy');
        return;
      }
      const m = JSON.parse(body) as { id: string; topic: string; payload: Record<string, unknown> };
      receiver.received.push({ path: req.url!, id: m.id, topic: m.topic, payload: m.payload });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.server!.listen(0, '127.0.0.1', r));
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
  stack = await startStack({
    database: 'postgres',
    runtime: threatRuntime,
    env: { TOS_WEBHOOK_URL: `${receiver.url}/tos`, WEBHOOK_SECRET: TOS_SECRET, SUBSCRIPTION_ALLOWED_NETWORKS: '127.0.0.0/8', OUTBOX_MAX_ATTEMPTS: '4', OUTBOX_BACKOFF_MS: '40', OUTBOX_INTERVAL_MS: '40' },
  });
  [sup, rev, risk] = await Promise.all([makeUser(stack.db.db, 'sup', 'supervisor'), makeUser(stack.db.db, 'rev', 'reviewer', 'A'), makeUser(stack.db.db, 'risk', 'risk-control')]);
  terminalKey = (await gatewaysRepo(stack.db.db).add('qqct-tos', 'terminal')).key;
});
afterAll(async () => {
  await stack?.close();
  receiver.server?.close();
});

const tosMessages = () => receiver.received.filter((r) => r.path === '/tos');
type Hold = { id: string; scanId: string; state: string; containerNo: string; history: Array<{ from: string | null; to: string; actor: string }> };
const holdFor = async (scanId: string) => (await call<{ items: Hold[] }>(stack.url, 'GET', '/v1/holds', sup.token)).body.items.find((h) => h.scanId === scanId)!;

describe('a held container', () => {
  let cn: string;
  let hold: Hold;
  beforeAll(async () => {
    cn = await containerNo('HLD', 1);
    await pushAndRoute(stack.url, stack.key, stack.db.db, 'hold-1', cn);
    hold = await holdFor('hold-1');
  });

  it('gets a lock instruction, sent to the terminal as a signed webhook (requested → sent)', async () => {
    expect(hold).toMatchObject({ containerNo: cn });
    await pollUntil(() => holdFor('hold-1'), (h) => h.state === 'sent', 10_000, 50);
    const lock = tosMessages().find((m) => m.topic === 'lock' && m.payload.scanId === 'hold-1');
    expect(lock?.payload).toMatchObject({ lockId: hold.id, containerNo: cn, reasons: ['THREAT_DETECTED'] });
    expect(receiver.refused).toEqual([]);
  });

  it('the gate says no while the hold is open; the terminal acknowledges; illegal steps are refused', async () => {
    const gate = await call<{ mayLeave: boolean; openHolds: unknown[] }>(stack.url, 'GET', `/v1/gate/${cn}`, terminalKey);
    expect(gate.body).toMatchObject({ containerNo: cn, mayLeave: false });
    expect(gate.body.openHolds).toHaveLength(1);
    expect((await call(stack.url, 'POST', `/v1/holds/${hold.id}/ack`, terminalKey)).body).toMatchObject({ state: 'acknowledged' });
    const early = await call(stack.url, 'POST', `/v1/holds/${hold.id}/release`, sup.token, { reason: 'nothing found' });
    expect([early.status, early.body.code]).toEqual([409, 'LOCK_TRANSITION_ILLEGAL']);
    expect((await call(stack.url, 'POST', `/v1/holds/${hold.id}/ack`, terminalKey)).status).toBe(409);
    expect((await call(stack.url, 'POST', `/v1/holds/${hold.id}/inspecting`, sup.token)).body).toMatchObject({ state: 'inspecting' });
    expect((await call(stack.url, 'GET', `/v1/gate/${cn}`, sup.token)).body.mayLeave).toBe(false);
  });

  it('only a supervisor releases, with a reason; then the gate says yes and the terminal is told', async () => {
    expect((await call(stack.url, 'POST', `/v1/holds/${hold.id}/release`, rev.token, { reason: 'x' })).status).toBe(403);
    expect((await call(stack.url, 'POST', `/v1/holds/${hold.id}/release`, terminalKey, { reason: 'x' })).status).toBe(403);
    expect((await call(stack.url, 'POST', `/v1/holds/${hold.id}/release`, sup.token, { reason: '' })).status).toBe(400);
    const released = await call<Hold>(stack.url, 'POST', `/v1/holds/${hold.id}/release`, sup.token, { reason: 'opened: car parts, as declared' });
    expect(released.body.state).toBe('released');
    expect(released.body.history.map((h) => h.to)).toEqual(['requested', 'sent', 'acknowledged', 'inspecting', 'released']);
    const again = await call(stack.url, 'POST', `/v1/holds/${hold.id}/seize`, sup.token, { reason: 'changed my mind' });
    expect([again.status, again.body.code, (again.body.details as { reason: string }).reason]).toEqual([409, 'LOCK_TRANSITION_ILLEGAL', 'LOCK_CLOSED']);
    expect((await call(stack.url, 'GET', `/v1/gate/${cn}`, terminalKey)).body.mayLeave).toBe(true);
    await pollUntil(async () => tosMessages(), (ms) => ms.some((m) => m.topic === 'release' && m.payload.lockId === hold.id), 10_000, 50);
    // Every transition is in the audit chain, and the chain holds.
    const entries = (await auditRepo(stack.db.db).list(`lock:${hold.id}`)).map((e) => e.payload.action);
    expect(entries).toEqual(['lock.requested', 'lock.sent', 'lock.acknowledged', 'lock.inspecting', 'lock.released']);
    expect((await auditRepo(stack.db.db).verify()).ok).toBe(true);
  });

  it('the gate never says yes for a held scan (lock not yet written) or a scan still in the pipeline', async () => {
    const other = await containerNo('HLD', 2);
    await stack.stopWorkers();
    const { dualEnergyPair } = await import('../helpers/images.js');
    const { pushScan } = await import('../helpers/push.js');
    const { high, low } = await dualEnergyPair(96, 48, 9);
    await pushScan(stack.url, { key: stack.key, metadata: { scanId: 'hold-pending', scannerId: 'H986', modality: 'container-xray', containerNo: other, capturedAt: '2026-11-23T08:00:00Z' }, images: { high, low } });
    const pending = await call<{ mayLeave: boolean; pendingScans: string[] }>(stack.url, 'GET', `/v1/gate/${other}`, terminalKey);
    expect(pending.body).toMatchObject({ mayLeave: false, pendingScans: ['hold-pending'] });
    await stack.startWorkers();
    await pollUntil(() => holdFor('hold-pending'), (h) => h !== undefined, 20_000, 50);
    expect((await call(stack.url, 'GET', `/v1/gate/${other}`, terminalKey)).body.mayLeave).toBe(false);
  });
});

describe('outbox delivery', () => {
  it('delivers in order through 500s, nothing lost; risk control subscribers get signed verdict events', async () => {
    const sub = await call<{ id: string; secret: string }>(stack.url, 'POST', '/v1/subscriptions', risk.token, { url: `${receiver.url}/sub`, decisions: ['hold'] });
    expect(sub.status).toBe(201);
    receiver.subscriptionSecret = sub.body.secret;
    receiver.failNext = 3; // the head message fails 3 times (of 4 allowed); everything behind it waits
    const before = tosMessages().length;
    const nos = await Promise.all([3, 4, 5].map((i) => containerNo('ORD', i)));
    await Promise.all(nos.map((no, i) => pushAndRoute(stack.url, stack.key, stack.db.db, `ord-${i}`, no, 20 + i)));
    const got = await pollUntil(async () => tosMessages().slice(before), (ms) => ms.filter((m) => m.topic === 'lock' && String(m.payload.scanId).startsWith('ord-')).length >= 3, 20_000, 50);
    const ids = got.map((m) => Number(m.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(got.filter((m) => m.topic === 'lock' && String(m.payload.scanId).startsWith('ord-')).map((m) => m.payload.scanId))).toEqual(new Set(['ord-0', 'ord-1', 'ord-2']));
    const dead = await call<{ items: unknown[] }>(stack.url, 'GET', '/v1/outbox/dead', sup.token);
    expect(dead.body.items).toEqual([]);
    const subs = await pollUntil(async () => receiver.received.filter((r) => r.path === '/sub'), (ms) => ms.length >= 3, 10_000, 50);
    expect(subs.every((m) => m.topic === 'webhook' && (m.payload as { decision: string }).decision === 'hold')).toBe(true);
  });

  it('dead-letters after N attempts (visible to supervisors), and a retry delivers it', async () => {
    receiver.failAlways = true;
    await pushAndRoute(stack.url, stack.key, stack.db.db, 'dead-1', await containerNo('DLQ', 7), 31);
    const dead = await pollUntil(
      () => call<{ items: Array<{ id: string; topic: string; attempts: number; lastError: string; payload: { scanId: string } }> }>(stack.url, 'GET', '/v1/outbox/dead', sup.token),
      (r) => r.body.items.some((m) => m.payload.scanId === 'dead-1'),
      10_000,
      50,
    );
    const letter = dead.body.items.find((m) => m.payload.scanId === 'dead-1')!;
    expect(letter).toMatchObject({ topic: 'lock', attempts: 4, lastError: 'HTTP 500' });
    expect((await call(stack.url, 'GET', '/v1/outbox/dead', rev.token)).status).toBe(403);
    receiver.failAlways = false;
    expect((await call(stack.url, 'POST', `/v1/outbox/${letter.id}/retry`, sup.token)).status).toBe(200);
    await pollUntil(async () => tosMessages(), (ms) => ms.some((m) => m.id === letter.id), 10_000, 50);
    expect((await call<{ items: unknown[] }>(stack.url, 'GET', '/v1/outbox/dead', sup.token)).body.items).toEqual([]);
  });
});

describe('the terminal acknowledges as the outbox records the delivery', () => {
  it('the acknowledgement is decided on the state under the row lock: requested → sent (outbox) → acknowledged', async () => {
    receiver.failAlways = true; // the outbox cannot deliver: the lock stays requested until this test moves it
    try {
      await pushAndRoute(stack.url, stack.key, stack.db.db, 'race-1', await containerNo('RCE', 1), 17);
      const hold = await pollUntil(() => holdFor('race-1'), (h) => h?.state === 'requested', 10_000, 50);
      let ack: Promise<{ status: number; body: Record<string, unknown> }> | null = null;
      // the outbox's step (requested → sent), its transaction still open when the terminal's acknowledgement arrives
      await stack.db.db.transaction(async (tx) => {
        await tx.query('SELECT 1 FROM lock_instructions WHERE id = $1 FOR UPDATE', [hold.id]);
        await tx.query(`UPDATE lock_instructions SET state = 'sent' WHERE id = $1`, [hold.id]);
        await tx.query(`INSERT INTO lock_transitions (lock_id, from_state, to_state, actor) VALUES ($1, 'requested', 'sent', 'outbox')`, [hold.id]);
        ack = call(stack.url, 'POST', `/v1/holds/${hold.id}/ack`, terminalKey);
        await new Promise((r) => setTimeout(r, 300)); // the route has read the row by now, and waits for this lock
      });
      const answer = await ack!;
      expect([answer.status, answer.body.state]).toEqual([200, 'acknowledged']);
      expect((await holdFor('race-1')).history.map((h) => h.to)).toEqual(['requested', 'sent', 'acknowledged']);
    } finally {
      receiver.failAlways = false;
    }
  });
});
