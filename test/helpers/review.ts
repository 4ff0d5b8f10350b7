// Review-workflow test helpers: users with sessions made straight in the database (no login round trip),
// JSON calls with a bearer token, scans pushed through the pipeline until their review item exists.
import type { Sql } from '../../storage/db/sql.js';
import { usersRepo, type Tier, type UserRole } from '../../storage/repos/users.js';
import { dualEnergyPair } from './images.js';
import { pollUntil, pushScan } from './push.js';

export interface TestUser {
  id: string;
  username: string;
  token: string;
}

export async function makeUser(db: Sql, username: string, role: UserRole, tier?: Tier, password = `pw-${username}-secret`): Promise<TestUser> {
  const users = usersRepo(db);
  const user = await users.add({ username, role, tier: tier ?? null, password });
  const { token } = await users.createSession(user.id, 3600_000);
  return { id: user.id, username, token };
}

export interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export async function call<T = Record<string, unknown>>(baseUrl: string, method: string, path: string, token?: string, body?: unknown): Promise<Answer<T>> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
}

export const containerScan = (scanId: string, containerNo: string) => ({
  scanId,
  scannerId: 'H986-QD-01',
  modality: 'container-xray',
  containerNo,
  capturedAt: '2026-11-23T08:00:00Z',
  weightKg: 12_900,
});

/** Pushes a small container scan and waits until the pipeline has routed it. */
export async function pushAndRoute(url: string, gatewayKey: string, db: Sql, scanId: string, containerNo: string, seed = 1): Promise<void> {
  const { high, low } = await dualEnergyPair(96, 48, seed);
  const res = await pushScan(url, { key: gatewayKey, metadata: containerScan(scanId, containerNo), images: { high, low } });
  if (res.status !== 202) throw new Error(`push ${scanId}: ${res.status} ${JSON.stringify(res.body)}`);
  const routed = await pollUntil(
    () => db.query<{ routed_at: unknown }>('SELECT routed_at FROM scans WHERE scan_id = $1', [scanId]),
    (r) => Boolean(r.rows[0]?.routed_at),
    30_000,
    50,
  );
  if (!routed.rows[0]?.routed_at) throw new Error(`scan ${scanId} was not routed`);
}

/** A valid ISO 6346 container number with the given owner code and serial. */
export async function containerNo(owner: string, serial: number): Promise<string> {
  const { iso6346CheckDigit } = await import('../../domain/iso6346.js');
  const first10 = `${owner}U${String(serial).padStart(6, '0')}`;
  return `${first10}${iso6346CheckDigit(first10) % 10}`;
}
