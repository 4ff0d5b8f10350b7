// Sign-in for people: POST /v1/auth/login (argon2id, rate-limited per address, account lockout after
// repeated failures), logout, and who am I. Tokens go in the Authorization header; no cookies.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { ReviewConfig } from '../../../config.js';
import type { Sql } from '../../../storage/db/sql.js';
import { usersRepo, type User } from '../../../storage/repos/users.js';
import { bearerToken } from '../../plugins/auth.js';
import { forbidden } from '../../errors.js';
import { ErrorBody, errorResponses } from '../../schemas.js';

export const USER_ROLE_LIST = ['reviewer', 'supervisor', 'risk-control', 'admin'] as const;

export const UserView = Type.Object({
  id: Type.String(),
  username: Type.String(),
  displayName: Type.String(),
  role: Type.String(),
  tier: Type.Union([Type.Literal('A'), Type.Literal('B'), Type.Literal('C'), Type.Null()]),
});

/** onRequest after requireRole: a person's session, not an API client that shares a role name (risk-control). */
export async function usersOnly(req: FastifyRequest): Promise<void> {
  if (req.principal?.kind !== 'user') throw forbidden('this route is for signed-in users, not API clients');
}

export const userView = (u: Pick<User, 'id' | 'username' | 'displayName' | 'role' | 'tier'>) => ({
  id: u.id,
  username: u.username,
  displayName: u.displayName,
  role: u.role,
  tier: u.tier,
});

const authRoutes: FastifyPluginAsyncTypebox<{ db: Sql; review: ReviewConfig }> = async (app, opts) => {
  const users = usersRepo(opts.db);
  const { login } = opts.review;

  app.post(
    '/v1/auth/login',
    {
      schema: {
        summary: 'Sign in with username and password; answers a session token for the Authorization header',
        tags: ['auth'],
        body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 128 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }),
        response: {
          200: Type.Object({ token: Type.String(), expiresAt: Type.String(), user: UserView }),
          ...errorResponses,
          423: ErrorBody,
          429: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const { username, password } = req.body;
      const recent = await users.recentAttempts(req.ip, login.rateWindowMs);
      if (recent.count >= login.rateLimit) {
        const seconds = Math.max(1, Math.ceil(recent.retryAfterMs / 1000));
        return reply
          .status(429)
          .header('retry-after', String(seconds))
          .send({ code: 'LOGIN_RATE_LIMITED', message: `too many sign-in attempts; retry in ${seconds} s`, details: { retryAfterSeconds: seconds } });
      }
      const check = await users.checkPassword(username, password, { maxFailures: login.maxFailures, lockoutMs: login.lockoutMs });
      await users.recordAttempt(req.ip, username, check.outcome === 'ok');
      if (check.outcome === 'locked') {
        req.log.warn({ username }, 'sign-in to a locked account');
        return reply.status(423).send({ code: 'ACCOUNT_LOCKED', message: 'the account is locked after repeated failed sign-ins', details: { lockedUntil: check.lockedUntil } });
      }
      if (check.outcome === 'failed') return reply.status(401).send({ code: 'LOGIN_FAILED', message: 'unknown username or wrong password' });
      const session = await users.createSession(check.user.id, opts.review.sessionTtlMs);
      return { token: session.token, expiresAt: session.expiresAt, user: userView(check.user) };
    },
  );

  app.post(
    '/v1/auth/logout',
    {
      onRequest: [app.requireRole(...USER_ROLE_LIST), usersOnly],
      schema: { summary: 'End this session', tags: ['auth'], security: [{ bearer: [] }], response: { 204: Type.Null(), ...errorResponses } },
    },
    async (req, reply) => {
      const token = bearerToken(req);
      if (token) await users.revokeSession(token);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/auth/me',
    {
      onRequest: [app.requireRole(...USER_ROLE_LIST), usersOnly],
      schema: { summary: 'The signed-in user', tags: ['auth'], security: [{ bearer: [] }], response: { 200: UserView, ...errorResponses } },
    },
    async (req) => {
      const user = await users.get(req.principal!.id);
      return userView(user!);
    },
  );
};

export default authRoutes;
