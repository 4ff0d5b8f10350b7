// Every registered route × every kind of principal. Routes listed here must answer exactly as the
// matrix says (allowed → neither 401 nor 403; others → 403; no credential → 401). A route not listed
// must at least be guarded: 401 without a credential and 403 for some principal — so a new route
// without a role guard fails this test. Routes are enumerated from the app itself (onRoute).
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { loadConfig } from '../../config.js';
import { createQueues, type Queues } from '../../pipeline/queues.js';
import { createFsObjectStore } from '../../storage/objects/fs-store.js';
import { gatewaysRepo, type ClientRole } from '../../storage/repos/gateways.js';
import { usersRepo, type Tier, type UserRole } from '../../storage/repos/users.js';
import { pgliteTestDb, REDIS_URL, type TestDb } from '../helpers/databases.js';

type Who = 'gateway' | 'declaration-source' | 'terminal' | 'risk-control-client' | 'reviewer-A' | 'reviewer-B' | 'reviewer-C' | 'supervisor' | 'risk-control-user' | 'admin';
const EVERYONE: Who[] = ['gateway', 'declaration-source', 'terminal', 'risk-control-client', 'reviewer-A', 'reviewer-B', 'reviewer-C', 'supervisor', 'risk-control-user', 'admin'];
const REVIEWERS: Who[] = ['reviewer-A', 'reviewer-B', 'reviewer-C'];
const RISK: Who[] = ['risk-control-client', 'risk-control-user'];
const USERS: Who[] = [...REVIEWERS, 'supervisor', 'risk-control-user', 'admin'];

/** 'public': no credential needed; 'signed': a signed URL, never open without one. */
const MATRIX: Record<string, Who[] | 'public' | 'signed'> = {
  'POST /v1/scans': ['gateway'],
  'GET /v1/scans/:scanId': ['gateway', ...REVIEWERS, 'supervisor', ...RISK, 'admin'],
  'GET /v1/scans/:scanId/tdr': ['gateway', ...REVIEWERS, 'supervisor', ...RISK],
  'GET /v1/scans/:scanId/image-urls': [...REVIEWERS, 'supervisor', ...RISK],
  'GET /v1/images/:scanId/:role': 'signed',
  'GET /v1/images/:scanId/:role/tiles/:z/:x/:y': 'signed',
  'PUT /v1/declarations/:declarationId': ['declaration-source', ...RISK],
  'GET /v1/declarations/:declarationId': ['declaration-source', ...RISK, ...REVIEWERS, 'supervisor', 'admin'],
  'POST /v1/auth/login': 'public',
  'POST /v1/auth/logout': USERS,
  'GET /v1/auth/me': USERS,
  'GET /v1/review/queue': [...REVIEWERS, 'supervisor'],
  'GET /v1/review/mine': [...REVIEWERS, 'supervisor'],
  'GET /v1/review/items/:scanId': [...REVIEWERS, 'supervisor'],
  'POST /v1/review/items/:scanId/claim': [...REVIEWERS, 'supervisor'],
  'POST /v1/review/items/:scanId/renew': [...REVIEWERS, 'supervisor'],
  'POST /v1/review/items/:scanId/release': [...REVIEWERS, 'supervisor'],
  'POST /v1/review/items/:scanId/decision': [...REVIEWERS, 'supervisor'],
  'POST /v1/review/items/:scanId/confirm': ['reviewer-A', 'supervisor'],
  'GET /v1/review/events': [...REVIEWERS, 'supervisor'],
  'GET /v1/holds': ['supervisor'],
  'POST /v1/holds/:id/ack': ['terminal'],
  'POST /v1/holds/:id/inspecting': ['supervisor'],
  'POST /v1/holds/:id/release': ['supervisor'],
  'POST /v1/holds/:id/seize': ['supervisor'],
  'GET /v1/gate/:containerNo': ['terminal', 'supervisor'],
  'GET /v1/outbox/dead': ['supervisor'],
  'POST /v1/outbox/:id/retry': ['supervisor'],
  'GET /v1/verdicts': RISK,
  'POST /v1/subscriptions': [...RISK, 'admin'],
  'GET /v1/subscriptions': [...RISK, 'admin'],
  'DELETE /v1/subscriptions/:id': [...RISK, 'admin'],
  'POST /v1/inspections': [...RISK, 'supervisor'],
  'GET /v1/stats': ['supervisor', 'admin'],
  'GET /v1/enterprises/:id': [...RISK, 'supervisor', 'admin'],
  'PUT /v1/enterprises/:id': [...RISK, 'admin'],
  'GET /v1/shadow': [...RISK, 'supervisor', 'admin'],
  'GET /v1/shadow/scans': [...RISK, 'supervisor', 'admin'],
  'GET /v1/containers/:containerNo': ['terminal', 'declaration-source', ...RISK, 'supervisor', 'admin'],
  'PUT /v1/containers/:containerNo': ['terminal', 'declaration-source', ...RISK, 'admin'],
  'GET /v1/references/candidates': ['supervisor'],
  'POST /v1/references/:candidateId/approve': ['supervisor'],
  'GET /v1/references/:id/image': 'signed',
};
/** Operational and static routes that are open by design. */
const PUBLIC_PREFIXES = ['/healthz', '/readyz', '/metrics', '/docs', '/review'];

const PARAMS: Record<string, string> = { id: '00000000-0000-0000-0000-000000000000', containerNo: 'CSQU3054383', role: 'rendering', z: '0', x: '0', y: '0' };
const concrete = (url: string) => url.replace(/:(\w+)/g, (_, p: string) => PARAMS[p] ?? 'x').replace('*', 'x');

let t: TestDb;
let queues: Queues;
let app: Awaited<ReturnType<typeof buildApp>>;
let base: string;
const clientKeys = new Map<Who, string>();
const userIds = new Map<Who, string>();

beforeAll(async () => {
  t = await pgliteTestDb();
  queues = createQueues(REDIS_URL, `twmatrix-${process.pid}`);
  const config = loadConfig({ DATA_DIR: '/tmp/tidewatch-matrix', LOG_LEVEL: 'silent' });
  app = await buildApp({ config, review: config.review, db: t.db, objects: createFsObjectStore('/tmp/tidewatch-matrix/objects'), queues, logger: pino({ level: 'silent' }) });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  const clients: Array<[Who, ClientRole]> = [['gateway', 'gateway'], ['declaration-source', 'declaration-source'], ['terminal', 'terminal'], ['risk-control-client', 'risk-control']];
  for (const [who, role] of clients) clientKeys.set(who, (await gatewaysRepo(t.db).add(`m-${who}`, role)).key);
  const people: Array<[Who, UserRole, Tier?]> = [['reviewer-A', 'reviewer', 'A'], ['reviewer-B', 'reviewer', 'B'], ['reviewer-C', 'reviewer', 'C'], ['supervisor', 'supervisor'], ['risk-control-user', 'risk-control'], ['admin', 'admin']];
  for (const [who, role, tier] of people) userIds.set(who, (await usersRepo(t.db).add({ username: `m-${who}`, role, tier: tier ?? null, password: 'matrix-password' })).id);
});
afterAll(async () => {
  await app?.close();
  await queues?.close();
  await t?.drop();
});

/** A fresh credential per call: a logout must not spoil the next request. */
async function tokenFor(who: Who): Promise<string> {
  const key = clientKeys.get(who);
  if (key) return key;
  return (await usersRepo(t.db).createSession(userIds.get(who)!, 60_000)).token;
}

async function status(method: string, url: string, token?: string): Promise<number> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), 5000);
  try {
    const withBody = method !== 'GET' && method !== 'HEAD';
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { ...(token && { authorization: `Bearer ${token}` }), ...(withBody && { 'content-type': 'application/json' }) },
      ...(withBody && { body: '{}' }),
      signal: ctrl.signal,
    });
    ctrl.abort(); // an event stream would never end by itself
    return res.status;
  } finally {
    clearTimeout(timer);
  }
}

describe('route × role matrix', () => {
  it('finds the routes from the app itself', () => {
    const keys = new Set(app.routeCatalog.map((r) => `${r.method} ${r.url}`));
    for (const route of Object.keys(MATRIX)) expect(keys.has(route), `${route} is in the matrix but not registered`).toBe(true);
  });

  it('every route answers each principal as its guard says', async () => {
    const problems: string[] = [];
    const routes = app.routeCatalog.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS');
    for (const { method, url } of routes) {
      const key = `${method} ${url}`;
      const rule = MATRIX[key];
      const path = concrete(url);
      if (rule === 'public' || (!rule && PUBLIC_PREFIXES.some((p) => url === p || url.startsWith(`${p}/`)))) continue;
      const anonymous = await status(method, path);
      if (rule === 'signed') {
        if (anonymous < 400) problems.push(`${key}: answered ${anonymous} without a signature`);
        continue;
      }
      if (anonymous !== 401) problems.push(`${key}: answered ${anonymous} without a credential (expected 401)`);
      if ((await status(method, path, 'tws_not-a-real-session-token')) !== 401) problems.push(`${key}: a bogus token was not refused with 401`);
      const answers = new Map<Who, number>();
      for (const who of EVERYONE) answers.set(who, await status(method, path, await tokenFor(who)));
      if (!rule) {
        // Not in the matrix: it must at least be guarded by a role.
        if (![...answers.values()].includes(403)) problems.push(`${key}: not in the matrix and open to every role (add a requireRole guard, then a MATRIX entry)`);
        continue;
      }
      for (const [who, code] of answers) {
        const allowed = rule.includes(who);
        if (allowed && (code === 401 || code === 403)) problems.push(`${key}: ${who} is allowed but got ${code}`);
        if (!allowed && code !== 403) problems.push(`${key}: ${who} is not allowed but got ${code}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('closing', () => {
  it('ends open review event streams when the app closes', async () => {
    const res = await fetch(`${base}/v1/review/events`, { headers: { authorization: `Bearer ${await tokenFor('reviewer-B')}` } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read(); // ': connected'
    const closed = app.close();
    let done = false;
    while (!done) done = (await reader.read()).done;
    await closed;
    expect(done).toBe(true);
  });
});
