// API clients (gateways, declaration sources, terminals, risk control) and their keys. A key is shown
// once at creation and stored only as a sha256 hash.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Queryable } from '../db/sql.js';

export type ClientRole = 'gateway' | 'declaration-source' | 'terminal' | 'risk-control';

export interface Gateway {
  id: string;
  name: string;
  role: ClientRole;
  keyPrefix: string;
  createdAt: string;
  revokedAt: string | null;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

interface GatewayRow {
  id: string;
  name: string;
  role: ClientRole;
  key_prefix: string;
  created_at: Date | string;
  revoked_at: Date | string | null;
}

const toGateway = (r: GatewayRow): Gateway => ({
  id: r.id,
  name: r.name,
  role: r.role,
  keyPrefix: r.key_prefix,
  createdAt: new Date(r.created_at).toISOString(),
  revokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : null,
});

export class GatewayNameTakenError extends Error {
  constructor(name: string) {
    super(`a gateway named ${JSON.stringify(name)} already exists`);
  }
}

export function gatewaysRepo(db: Queryable) {
  return {
    /** Creates a gateway and returns its key; the key is never stored or retrievable again. */
    async add(name: string, role: ClientRole = 'gateway'): Promise<{ gateway: Gateway; key: string }> {
      const key = `twg_${randomBytes(32).toString('base64url')}`;
      const id = randomUUID();
      const rows = (
        await db.query<GatewayRow>(
          `INSERT INTO gateways (id, name, key_hash, key_prefix, role) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (name) DO NOTHING RETURNING *`,
          [id, name, hashKey(key), key.slice(0, 10), role],
        )
      ).rows;
      if (!rows[0]) throw new GatewayNameTakenError(name);
      return { gateway: toGateway(rows[0]), key };
    },
    /** Issues a new key for an existing gateway (the old key stops working at once), or creates it. */
    async rotate(name: string, role: ClientRole = 'gateway'): Promise<{ gateway: Gateway; key: string }> {
      const key = `twg_${randomBytes(32).toString('base64url')}`;
      const rows = (
        await db.query<GatewayRow>(
          'UPDATE gateways SET key_hash = $2, key_prefix = $3, revoked_at = NULL WHERE name = $1 RETURNING *',
          [name, hashKey(key), key.slice(0, 10)],
        )
      ).rows;
      if (rows[0]) return { gateway: toGateway(rows[0]), key };
      return this.add(name, role);
    },
    async list(): Promise<Gateway[]> {
      return (await db.query<GatewayRow>('SELECT * FROM gateways ORDER BY created_at, name')).rows.map(toGateway);
    },
    async revoke(name: string): Promise<boolean> {
      const r = await db.query('UPDATE gateways SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL RETURNING id', [name]);
      return r.rows.length > 0;
    },
    /** The active gateway holding this key, or null (unknown or revoked). */
    async authenticate(key: string): Promise<Gateway | null> {
      return this.authenticateDigest(hashKey(key));
    },
    /** The same by the key's digest (hashKey), for a caller that has already computed it. */
    async authenticateDigest(keyHash: string): Promise<Gateway | null> {
      const r = await db.query<GatewayRow>('SELECT * FROM gateways WHERE key_hash = $1 AND revoked_at IS NULL', [keyHash]);
      return r.rows[0] ? toGateway(r.rows[0]) : null;
    },
  };
}
