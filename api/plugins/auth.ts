// Authentication and roles for every route. A request carries `Authorization: Bearer <token>`: an API
// client's key (gateway, declaration source, terminal, risk control) or a user's session token; resolvers
// turn it into a principal, and `requireRole` guards each route.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
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

export default fp(async function auth(app: FastifyInstance, opts: { db: Sql }) {
  const clients = gatewaysRepo(opts.db);
  const resolvers: PrincipalResolver[] = [
    async (token) => {
      if (!token.startsWith('twg_')) return null;
      const c = await clients.authenticate(token);
      return c ? { kind: 'client', id: c.id, name: c.name, role: c.role } : null;
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
