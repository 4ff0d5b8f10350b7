// Sign-in for people: POST /v1/auth/login (argon2id; rate-limited per address; repeated failures lock the
// account for the failing address, and failures from many addresses lock it for all), logout, and who am I. Tokens go in the Authorization header; no cookies.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { ReviewConfig } from '../../../config.js';
import type { Sql } from '../../../storage/db/sql.js';
import { usersRepo, type User } from '../../../storage/repos/users.js';
import { loginAttemptsRepo } from '../../../storage/repos/login-attempts.js';
import type { LockoutState } from '../../../domain/auth/login-lockout.js';
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
  const attempts = loginAttemptsRepo(opts.db, opts.review.login);

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
      const recent = await attempts.fromAddress(req.ip);
      if (recent.limited) {
        const seconds = Math.max(1, Math.ceil(recent.retryAfterMs / 1000));
        return reply
          .status(429)
          .header('retry-after', String(seconds))
          .send({ code: 'LOGIN_RATE_LIMITED', message: `too many sign-in attempts; retry in ${seconds} s`, details: { retryAfterSeconds: seconds } });
      }
      const locked = (state: Extract<LockoutState, { locked: true }>) => {
        req.log.warn({ username, scope: state.scope }, 'sign-in to a locked account');
        return reply.status(423).send({
          code: 'ACCOUNT_LOCKED',
          message: state.scope === 'account' ? 'the account is locked after repeated failed sign-ins' : 'the account is locked for this address after repeated failed sign-ins from it',
          details: { lockedUntil: new Date(state.until).toISOString(), scope: state.scope },
        });
      };
      const before = await attempts.lockout(username, req.ip);
      if (before.locked) {
        await attempts.record(req.ip, username, 'refused');
        return locked(before);
      }
      const check = await users.checkPassword(username, password);
      if (check.outcome === 'failed') {
        const after = await attempts.recordFailure(req.ip, username);
        if (after.locked) return locked(after);
        return reply.status(401).send({ code: 'LOGIN_FAILED', message: 'unknown username or wrong password' });
      }
      await attempts.record(req.ip, username, 'ok');
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
