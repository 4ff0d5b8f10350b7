// Delivers the transactional outbox: lock/release/seize/divert messages to the terminal operating system
// (TOS_WEBHOOK_URL, signed with WEBHOOK_SECRET) and verdict events to risk control's subscriptions (each
// signed with its own secret). Per destination, strictly in order: a failing message holds back the ones
// behind it and is retried with exponential backoff, until OUTBOX_MAX_ATTEMPTS puts it in the dead-letter
// list (GET /v1/outbox/dead) and the next one goes. Only one process delivers at a time (a database lease).
// Subscriptions reach only the addresses pipeline/webhook-destination.ts allows; no delivery follows a redirect.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ReviewConfig } from '../config.js';
import type { Sql } from '../storage/db/sql.js';
import { holdsRepo, LockTransitionError } from '../storage/repos/holds.js';
import { outboxRepo } from '../storage/repos/outbox.js';
import { outboxDeliveriesRepo, type PendingDelivery } from '../storage/repos/outbox-deliveries.js';
import { subscriptionsRepo } from '../storage/repos/subscriptions.js';
import { destinationGuard, postWebhook } from './webhook-destination.js';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature.js';

const LEASE_NAME = 'outbox';
const MAX_BACKOFF_MS = 5 * 60_000;
const REQUEST_TIMEOUT_MS = 5_000;
/** Rows read a pass, per destination (each destination is delivered in order, so more would wait anyway). */
const PER_DESTINATION = 200;

export interface DispatcherDeps {
  db: Sql;
  logger: Logger;
}

/** `guarded`: a subscription's URL, chosen by an API client (the terminal's is the operator's own). */
type Target = { url: string; secret: string; guarded: boolean } | null;

export function backoffMs(attempts: number, firstMs: number): number {
  return Math.min(firstMs * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
}

type DispatcherConfig = Pick<ReviewConfig, 'tosWebhookUrl' | 'webhookSecret' | 'outbox' | 'subscriptionAllowedNetworks'>;

export function outboxDispatcher(deps: DispatcherDeps, config: DispatcherConfig) {
  const deliveries = outboxDeliveriesRepo(deps.db);
  const outbox = outboxRepo(deps.db);
  const holds = holdsRepo(deps.db);
  const subscriptions = subscriptionsRepo(deps.db);
  const holder = randomUUID();
  const guard = destinationGuard(config.subscriptionAllowedNetworks);
  const leaseMs = Math.max(30_000, config.outbox.intervalMs * 10);

  async function send(target: NonNullable<Target>, m: PendingDelivery): Promise<string | null> {
    const body = JSON.stringify({ id: m.id, topic: m.topic, createdAt: m.createdAt, payload: m.payload });
    const headers = { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook(target.secret, body), 'x-tidewatch-delivery': m.id, 'x-tidewatch-topic': m.topic };
    return postWebhook(target.url, headers, body, { timeoutMs: REQUEST_TIMEOUT_MS, ...(target.guarded && { guard }) });
  }

  async function afterDelivery(m: PendingDelivery): Promise<void> {
    const lockId = (m.payload as { lockId?: string } | null)?.lockId;
    if (m.topic !== 'lock' || !lockId) return;
    try {
      const lock = await holds.get(lockId);
      if (lock?.state === 'requested') await holds.transition(lockId, [{ type: 'send' }], 'outbox');
    } catch (err) {
      // The terminal may have acknowledged already (requested → sent → acknowledged in one step).
      if (!(err instanceof LockTransitionError)) throw err;
    }
  }

  async function deliverInOrder(target: Target, messages: PendingDelivery[]): Promise<number> {
    let delivered = 0;
    for (const m of messages) {
      if (!m.due) break;
      // the lease, renewed before each send: a pass that outlives it (a slow terminal, a backlog) stops here
      // instead of sending beside the process that took the lease over
      if (!(await deliveries.acquireLease(LEASE_NAME, holder, leaseMs))) break;
      if (!target) {
        await outbox.failed(m.id, 'SUBSCRIPTION_DELETED', null);
        continue;
      }
      const error = await send(target, m);
      if (error === null) {
        await outbox.delivered(m.id);
        await afterDelivery(m);
        delivered++;
        continue;
      }
      const attempts = m.attempts + 1;
      const dead = attempts >= config.outbox.maxAttempts;
      await outbox.failed(m.id, error, dead ? null : backoffMs(attempts, config.outbox.backoffMs));
      deps.logger.warn({ id: m.id, topic: m.topic, destination: m.destination, attempts, error, dead }, dead ? 'outbox message dead-lettered' : 'outbox delivery failed; will retry');
      if (!dead) break;
    }
    return delivered;
  }

  return {
    /** One pass: fan verdict events out to subscriptions, then deliver what is due. Returns deliveries made. */
    async tick(): Promise<number> {
      if (!(await deliveries.acquireLease(LEASE_NAME, holder, leaseMs))) return 0;
      const subs = await subscriptions.active();
      const verdictEvents = await deliveries.pendingVerdicts(200);
      await deliveries.fanOut(
        verdictEvents.map((v) => ({
          verdictRowId: v.id,
          deliveries: subs
            .filter((s) => !s.decisions || (v.payload.decision !== undefined && s.decisions.includes(v.payload.decision)))
            .map((s) => ({ subscriptionId: s.id, payload: v.payload })),
        })),
      );
      const byDestination = new Map<string, PendingDelivery[]>();
      for (const m of await deliveries.pending(PER_DESTINATION)) byDestination.set(m.destination, [...(byDestination.get(m.destination) ?? []), m]);
      const bySubscription = new Map(subs.map((s) => [`sub:${s.id}`, { url: s.url, secret: s.secret, guarded: true }]));
      // every destination's loop settles before the pass ends (one that throws must not leave the others running
      // into the next pass, over the same rows)
      const results = await Promise.allSettled(
        [...byDestination].map(async ([destination, messages]) => {
          if (destination === 'terminal') {
            // No terminal configured: messages wait (the demo has none); they are delivered once one is.
            if (!config.tosWebhookUrl || !config.webhookSecret) return 0;
            return deliverInOrder({ url: config.tosWebhookUrl, secret: config.webhookSecret, guarded: false }, messages);
          }
          return deliverInOrder(bySubscription.get(destination) ?? null, messages);
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      return results.reduce((a, r) => a + (r as PromiseFulfilledResult<number>).value, 0);
    },
    async releaseLease(): Promise<void> {
      await deliveries.releaseLease(LEASE_NAME, holder);
    },
  };
}

export function startOutboxDispatcher(deps: DispatcherDeps, config: DispatcherConfig): { stop(): Promise<void> } {
  const dispatcher = outboxDispatcher(deps, config);
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = dispatcher
      .tick()
      .catch((err: Error) => deps.logger.warn({ err: err.message }, 'outbox dispatch failed'))
      .finally(() => {
        running = null;
      });
  }, config.outbox.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await dispatcher.releaseLease().catch(() => {});
    },
  };
}
