// Authentication and roles for every route. A request carries `Authorization: Bearer <token>`: an API
// client's key (gateway, declaration source, terminal, risk control) or a user's session token; resolvers
// turn it into a principal, and `requireRole` guards each route.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { gatewaysRepo, hashKey } from '../../storage/repos/gateways.js';
import type { Sql } from '../../storage/db/sql.js';
import { forbidden, unauthorized } from '../errors.js';

export const CLIENT_ROLES = ['gateway', 'declaration-source', 'terminal', 'risk-control'] as const;
export const USER_ROLES = ['reviewer', 'supervisor', 'risk-control', 'admin'] as const;
export type ClientRole = (typeof CLIENT_ROLES)[number];
export type UserRole = (typeof USER_ROLES)[number];
export type Role = ClientRole | UserRole;

export interface Principal {
  kind: 'client' | 'user';
  id: string;
  name: string;
  role: Role;
  /** Reviewers only: A senior, B independent, C trainee. */
  tier?: 'A' | 'B' | 'C';
}

export type PrincipalResolver = (token: string, req: FastifyRequest) => Promise<Principal | null>;

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** onRequest hook: any authenticated principal whose role is listed. */
    requireRole: (...roles: Role[]) => (req: FastifyRequest) => Promise<void>;
    /** Adds a way to resolve tokens (user sessions register one). Resolvers run in order. */
    addPrincipalResolver: (resolver: PrincipalResolver) => void;
  }
}

export function bearerToken(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+([A-Za-z0-9._~+/=-]{8,512})$/.exec(h);
  return m ? m[1]! : null;
}

/** At most this many checked client keys are remembered (a port has tens of gateways and clients). */
const KEY_CACHE_ENTRIES = 1024;

/**
 * API client keys as the database last confirmed them, for `ttlMs`: a gateway pushing several scans a second
 * would otherwise cost a query on each. Only keys found active are kept, under their SHA-256 (never the key);
 * an unknown or revoked key reads the database every time. A key revoked or rotated elsewhere (the CLI, another
 * API process) keeps working here until its entry expires.
 */
function clientKeyCache(ttlMs: number) {
  const entries = new Map<string, { principal: Principal; until: number }>();
  return {
    async resolve(token: string, lookup: (keyHash: string) => Promise<Principal | null>): Promise<Principal | null> {
      // the digest the gateways table keeps, never the key itself
      const id = hashKey(token);
      if (ttlMs === 0) return lookup(id);
      const hit = entries.get(id);
      const now = Date.now();
      if (hit && hit.until > now) return hit.principal;
      entries.delete(id);
      const principal = await lookup(id);
      if (principal) {
        if (entries.size >= KEY_CACHE_ENTRIES) entries.delete(entries.keys().next().value!);
        entries.set(id, { principal: Object.freeze(principal), until: now + ttlMs });
      }
      return principal;
    },
  };
}

export default fp(async function auth(app: FastifyInstance, opts: { db: Sql; keyCacheMs: number }) {
  const clients = gatewaysRepo(opts.db);
  const cache = clientKeyCache(opts.keyCacheMs);
  const resolvers: PrincipalResolver[] = [
    async (token) => {
      if (!token.startsWith('twg_')) return null;
      return cache.resolve(token, async (keyHash) => {
        const c = await clients.authenticateDigest(keyHash);
        return c ? { kind: 'client', id: c.id, name: c.name, role: c.role } : null;
      });
    },
  ];
  app.decorateRequest('principal', null);
  app.decorate('addPrincipalResolver', (r: PrincipalResolver) => {
    resolvers.push(r);
  });
  app.decorate('requireRole', (...roles: Role[]) => async (req: FastifyRequest) => {
    const token = bearerToken(req);
    let principal: Principal | null = null;
    if (token) {
      for (const resolve of resolvers) {
        principal = await resolve(token, req);
        if (principal) break;
      }
    }
    if (!principal) throw unauthorized();
    if (!roles.includes(principal.role)) throw forbidden(`this route needs one of: ${roles.join(', ')}`);
    req.principal = principal;
  });
});
