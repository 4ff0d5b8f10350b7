// The real stage handlers against a real database (PostgreSQL and PGlite), run in order as one job runs them:
// the scan is read once and handed from stage to stage, the verdict is stored and routed in one transaction (a
// failure in routing leaves no verdict behind, and the retry stores and routes it), and the failure path's review
// verdict is routed without a queue hop.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../domain/policy/parse-policy.js';
import type { PipelineDeps } from '../../pipeline/deps.js';
import type { Stage, StageNext } from '../../pipeline/jobs.js';
import type { Queues } from '../../pipeline/queues.js';
import { failScanToReview } from '../../pipeline/stages/verdict-writer.js';
import { stageHandlers } from '../../pipeline/worker.js';
import type { Queryable, Sql } from '../../storage/db/sql.js';
import { createFsObjectStore } from '../../storage/objects/fs-store.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { scansRepo, type Scan } from '../../storage/repos/scans.js';
import { verdictsRepo } from '../../storage/repos/verdicts.js';
import { pgliteTestDb, postgresTestDb, type TestDb } from '../helpers/databases.js';
import { png8 } from '../helpers/images.js';
import { noModels } from '../helpers/stack.js';

/** The statements a Sql runs (first words), and a hook that may throw before one runs inside a transaction. */
function recording(db: Sql, failInTx?: (text: string) => boolean) {
  const statements: string[] = [];
  const note = (text: string) => statements.push(text.replace(/\s+/g, ' ').trim());
  const wrapped: Sql = {
    kind: db.kind,
    query(text, params) {
      note(text);
      return db.query(text, params);
    },
    transaction(fn) {
      note('BEGIN');
      return db.transaction((tx) =>
        fn({
          query(text: string, params?: unknown[]) {
            note(text);
            if (failInTx?.(text)) throw new Error(`injected failure before: ${text.slice(0, 40)}`);
            return tx.query(text, params);
          },
        } as Queryable),
      );
    },
    exec: (s) => db.exec(s),
    ping: () => db.ping(),
    close: () => db.close(),
  };
  return { db: wrapped, statements };
}

describe.each([['PostgreSQL', postgresTestDb], ['PGlite', pgliteTestDb]] as const)('stages on %s', (_name, open) => {
  let t: TestDb;
  let dir: string;
  let gatewayId: string;
  beforeAll(async () => {
    t = await open();
    dir = await mkdtemp(join(tmpdir(), 'tw-stages-'));
    gatewayId = (await gatewaysRepo(t.db).add(`gw-stages-${Date.now()}`)).gateway.id;
  });
  afterAll(async () => {
    await t?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const enqueued: string[] = [];
  function deps(db: Sql): PipelineDeps {
    const queues: Queues = {
      enqueue: async (stage, scanId) => void enqueued.push(`${stage}:${scanId}`),
      depths: async () => ({ preprocess: 0, infer: 0, assess: 0, route: 0 }),
      ping: async () => {},
      close: async () => {},
    };
    return {
      db,
      objects: createFsObjectStore(join(dir, 'objects')),
      queues,
      runtime: noModels,
      logger: pino({ level: 'silent' }),
      maxImagePixels: 50_000_000,
      policy: defaultPolicy(),
      declarationWaitMs: 0,
      now: () => new Date(),
    };
  }

  /** A parcel scan stored as the API stores it: its image in the object store, its rows in the database. */
  async function stored(scanId: string): Promise<void> {
    const image = await png8(64, 48, 3);
    const objectKey = `images/${scanId}.png`;
    await createFsObjectStore(join(dir, 'objects')).put(objectKey, image, { contentType: 'image/png' });
    const r = await scansRepo(t.db).insert({
      scanId, gatewayId, scannerId: 'CT-01', modality: 'parcel-ct', waybill: `WB${scanId}`, capturedAt: '2026-12-04T08:00:00.000Z', contentHash: scanId,
      images: [{ role: 'image', objectKey, format: 'png', width: 64, height: 48, channels: 3, bitDepth: 8, bytes: image.length, sha256: scanId }],
    });
    expect(r.outcome).toBe('created');
    // what the insert hands back is what a read gives
    expect(r.scan).toEqual(await scansRepo(t.db).get(scanId));
  }

  /** Runs the stages from `from` as the worker does in one job: each next stage gets the scan its predecessor stored. */
  async function runJob(d: PipelineDeps, scanId: string, from: Stage = 'preprocess'): Promise<Stage[]> {
    const handlers = stageHandlers(d);
    const ran: Stage[] = [];
    let stage: Stage | void = from;
    let carried: Scan | undefined;
    while (stage) {
      ran.push(stage);
      const out: Stage | StageNext | void = await handlers[stage]({ scanId }, carried);
      stage = typeof out === 'object' ? out.next : out;
      carried = typeof out === 'object' ? out.scan : undefined;
    }
    return ran;
  }

  const routedState = async (scanId: string) => {
    const one = async (sql: string) => Number((await t.db.query<{ n: string | number }>(sql, [scanId])).rows[0]!.n);
    return {
      verdicts: await one(`SELECT count(*) AS n FROM verdicts WHERE scan_id = $1 AND source = 'machine'`),
      reviewItems: await one('SELECT count(*) AS n FROM review_items WHERE scan_id = $1'),
      outbox: await one(`SELECT count(*) AS n FROM outbox WHERE payload->>'scanId' = $1`),
      routed: (await scansRepo(t.db).get(scanId))!.routedAt !== null,
      status: (await scansRepo(t.db).get(scanId))!.status,
    };
  };

  it('reads the scan once, then stores and routes the verdict in one transaction, with no route stage', async () => {
    await stored('st-1');
    const rec = recording(t.db);
    expect(await runJob(deps(rec.db), 'st-1')).toEqual(['preprocess', 'infer', 'assess']);
    expect(rec.statements.filter((s) => s.startsWith('SELECT s.*'))).toHaveLength(1);
    // two updates of the scan: preprocess's status stored with infer's, and `assessed` with routed
    expect(rec.statements.filter((s) => s.startsWith('UPDATE scans'))).toHaveLength(2);
    // and the rendering preprocess made is stored all the same
    expect(await scansRepo(t.db).get('st-1')).toMatchObject({ renderingKey: 'renderings/st-1.png', rendering: { width: 64, height: 48, channels: 3 } });
    expect(rec.statements.filter((s) => s === 'BEGIN')).toHaveLength(1);
    expect(rec.statements.filter((s) => /FROM verdicts WHERE scan_id/.test(s))).toHaveLength(0);
    // no declaration: review, queued for a person, the verdict on the feed's outbox
    expect(await routedState('st-1')).toEqual({ verdicts: 1, reviewItems: 1, outbox: 1, routed: true, status: 'assessed' });
    expect((await verdictsRepo(t.db).machineVerdict('st-1'))!.reasons.map((r) => r.code)).toContain('DECLARATION_MISSING');
    // a retried job finds the scan done and writes nothing more
    expect(await runJob(deps(t.db), 'st-1', 'assess')).toEqual(['assess', 'route']);
    expect(await routedState('st-1')).toEqual({ verdicts: 1, reviewItems: 1, outbox: 1, routed: true, status: 'assessed' });
  });

  it('a failure while routing leaves no verdict; the retry stores and routes it once', async () => {
    await stored('st-3');
    let fail = true;
    const rec = recording(t.db, (text) => fail && text.includes('INSERT INTO review_items'));
    await expect(runJob(deps(rec.db), 'st-3')).rejects.toThrow(/injected failure/);
    // rolled back with the routing: the scan is still `inferred`, nothing is on the feed or in the queue
    expect(await routedState('st-3')).toEqual({ verdicts: 0, reviewItems: 0, outbox: 0, routed: false, status: 'inferred' });
    fail = false;
    expect(await runJob(deps(rec.db), 'st-3', 'assess')).toEqual(['assess']);
    expect(await routedState('st-3')).toEqual({ verdicts: 1, reviewItems: 1, outbox: 1, routed: true, status: 'assessed' });
  });

  it('the failure path stores a review verdict and routes it in the same transaction, with no queue hop', async () => {
    await stored('st-4');
    enqueued.length = 0;
    await failScanToReview(deps(t.db), 'st-4', 'IMAGE_UNREADABLE', 'bad bytes');
    expect(await routedState('st-4')).toEqual({ verdicts: 1, reviewItems: 1, outbox: 1, routed: true, status: 'assessed' });
    expect((await verdictsRepo(t.db).machineVerdict('st-4'))!.reasons.map((r) => r.code)).toEqual(['IMAGE_UNREADABLE']);
    expect(enqueued).toEqual([]);
    // the sweeper's route job, should one run, finds it routed
    expect(await runJob(deps(t.db), 'st-4', 'route')).toEqual(['route']);
    expect(await routedState('st-4')).toEqual({ verdicts: 1, reviewItems: 1, outbox: 1, routed: true, status: 'assessed' });
  });
});
