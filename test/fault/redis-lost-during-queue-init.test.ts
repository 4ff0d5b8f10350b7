// Redis dies at the moment the producer's connection first becomes ready, while BullMQ's queues are still
// checking the server's version. Once Redis is back, enqueueing must work again without restarting the
// process (BullMQ keeps a failed version check for good; the queues replace such a Queue).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createProducerConnection, createQueues, type Queues } from '../../pipeline/queues.js';
import { startRedisServer, type RedisServer } from '../../storage/redis-server.js';
import { pollUntil } from '../helpers/push.js';

let redis: RedisServer;
let dir: string;
let queues: Queues | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tw-qinit-'));
  redis = await startRedisServer(dir);
});
afterAll(async () => {
  await queues?.close();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }); // its redis-server's folder can still gain a file as the server stops (seen once in CI)
});

it('enqueues again after Redis was lost during the queues\' first version check', { timeout: 60_000 }, async () => {
  const connection = createProducerConnection(redis.url);
  let killed: Promise<void> | undefined;
  connection.once('ready', () => {
    killed = redis.stop('SIGKILL');
  });
  queues = createQueues(redis.url, 'tw-qinit', { connection });
  await pollUntil(async () => killed, (k) => k !== undefined, 10_000, 5);
  await killed;
  await expect(queues.enqueue('preprocess', 'q-0')).rejects.toThrow();
  await redis.restart();
  const errors: string[] = [];
  const ok = await pollUntil(
    () => queues!.enqueue('preprocess', 'q-1').then(() => true, (err: Error) => (errors.push(err.message), false)),
    (done) => done,
    20_000,
    250,
  );
  expect(ok, errors.slice(-3).join('\n')).toBe(true);
  const depths = await queues.depths();
  expect(depths.preprocess).toBeGreaterThanOrEqual(1); // q-1, and q-0 if its reply was lost but the write landed
  await queues.enqueue('preprocess', 'q-1'); // a repeat is a no-op: same job id
  expect(await queues.depths()).toEqual(depths);
});
