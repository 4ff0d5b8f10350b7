// The outbox dispatcher's reading of pending rows and its lease, against a real (embedded) database and a real
// HTTP terminal: a failing subscriber cannot hide the terminal's lock messages, and a pass that lost its lease
// sends nothing more.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { outboxDispatcher } from '../../pipeline/outbox-dispatcher.js';
import { outboxRepo } from '../../storage/repos/outbox.js';
import { outboxDeliveriesRepo } from '../../storage/repos/outbox-deliveries.js';
import { pgliteTestDb, type TestDb } from '../helpers/databases.js';

let t: TestDb;
let server: Server;
let url: string;
let onRequest: (path: string) => Promise<void> = async () => {};
const delivered: string[] = [];

beforeAll(async () => {
  t = await pgliteTestDb();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      void onRequest(req.url ?? '').then(() => {
        delivered.push((JSON.parse(body) as { topic: string; payload: { n: number } }).payload.n.toString());
        res.writeHead(204).end();
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await t.db.query('DELETE FROM outbox');
  await t.db.query('DELETE FROM dispatcher_leases');
  delivered.length = 0;
  onRequest = async () => {};
});
afterAll(async () => {
  server?.close();
  await t?.drop();
});

it("reads each destination's oldest rows: a failing subscriber's backlog does not hide the terminal's lock messages", async () => {
  const outbox = outboxRepo(t.db);
  for (let n = 0; n < 5; n++) {
    await t.db.query(`INSERT INTO outbox (topic, dedupe_key, payload, destination) VALUES ('webhook', $1, $2, 'sub:s1')`, [`webhook.s1.${n}`, JSON.stringify({ n })]);
  }
  await outbox.add('lock', 'lock.1', { lockId: 'l1', n: 5 });
  const pending = await outboxDeliveriesRepo(t.db).pending(3);
  expect(pending.map((m) => [m.destination, m.topic])).toEqual([
    ['sub:s1', 'webhook'], ['sub:s1', 'webhook'], ['sub:s1', 'webhook'], ['terminal', 'lock'],
  ]);
});

it('a pass that loses its lease to another process sends nothing more', async () => {
  const outbox = outboxRepo(t.db);
  for (let n = 0; n < 3; n++) await outbox.add('release', `release.${n}`, { lockId: `l${n}`, n });
  // while the first message is being delivered, another dispatcher takes the lease over (this one's expired)
  onRequest = async () => {
    await t.db.query(`UPDATE dispatcher_leases SET holder = 'another-process', expires_at = now() + interval '1 hour'`);
  };
  const d = outboxDispatcher(
    { db: t.db, logger: pino({ level: 'silent' }) },
    { tosWebhookUrl: `${url}/tos`, webhookSecret: 'a-terminal-secret-0123456789', subscriptionAllowedNetworks: [], outbox: { maxAttempts: 3, backoffMs: 10, intervalMs: 1000 } },
  );
  expect(await d.tick()).toBe(1);
  expect(delivered).toEqual(['0']);
  // the other process's lease is live: this one does not start a pass at all
  expect(await d.tick()).toBe(0);
  expect(delivered).toEqual(['0']);
});
