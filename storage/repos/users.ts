// People who sign in (reviewers in tiers A/B/C, supervisors, risk control, admins) and their sessions
// (sign-in attempts and lockouts: login-attempts.ts). Passwords are argon2id; session tokens are random and stored only as sha256 hashes.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import type { Queryable } from '../db/sql.js';
import { iso } from '../db/rows.js';

export const USER_ROLES = ['reviewer', 'supervisor', 'risk-control', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];
export const TIERS = ['A', 'B', 'C'] as const;
export type Tier = (typeof TIERS)[number];

export interface User {
  id: string;
  username: string;
  displayName: string;
  role: UserRole;
  tier: Tier | null;
  failedLogins: number;
  lockedUntil: string | null;
  disabledAt: string | null;
  createdAt: string;
}

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  role: UserRole;
  tier: Tier | null;
  password_hash: string;
  failed_logins: number;
  locked_until: Date | string | null;
  disabled_at: Date | string | null;
  created_at: Date | string;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  displayName: r.display_name,
  role: r.role,
  tier: r.tier,
  failedLogins: r.failed_logins,
  lockedUntil: iso(r.locked_until),
  disabledAt: iso(r.disabled_at),
  createdAt: iso(r.created_at)!,
});

export class UsernameTakenError extends Error {
  constructor(username: string) {
    super(`a user named ${JSON.stringify(username)} already exists`);
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

// argon2id with the library's defaults (19 MiB, t=2): OWASP's minimum recommendation.
export const hashPassword = (password: string) => argon2Hash(password, { algorithm: 2 });

/** Compared against when the username is unknown, so timing does not tell which usernames exist. */
let dummyHash: Promise<string> | null = null;

export type LoginCheck = { outcome: 'ok'; user: User } | { outcome: 'failed' };

export function usersRepo(db: Queryable) {
  const revokeSessionsOf = (userId: string) => db.query('UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
  return {
    async add(input: { username: string; role: UserRole; tier?: Tier | null; displayName?: string; password: string }): Promise<User> {
      const tier = input.role === 'reviewer' ? (input.tier ?? 'B') : null;
      const rows = (
        await db.query<UserRow>(
          `INSERT INTO users (id, username, display_name, role, tier, password_hash) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (username) DO NOTHING RETURNING *`,
          [randomUUID(), input.username, input.displayName ?? input.username, input.role, tier, await hashPassword(input.password)],
        )
      ).rows;
      if (!rows[0]) throw new UsernameTakenError(input.username);
      return toUser(rows[0]);
    },
    /** Sets a new password and ends any sign-in lockout of the account; false when no such user. */
    async setPassword(username: string, password: string): Promise<boolean> {
      const hash = await hashPassword(password);
      // One statement, so all of it happens or none: the new hash; every session signed in with the old
      // password revoked; and a 'reset' login attempt, which ends earlier lockouts and failure counts
      // (domain/auth/login-lockout.ts; the row has the shape storage/repos/login-attempts.ts writes).
      const r = await db.query<{ id: string }>(
        `WITH u AS (UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE username = $1 RETURNING id),
           s AS (UPDATE sessions SET revoked_at = now() WHERE user_id IN (SELECT id FROM u) AND revoked_at IS NULL RETURNING user_id),
           a AS (INSERT INTO login_attempts (ip, username, ok, outcome) SELECT '', $1, false, 'reset' FROM u RETURNING id)
         SELECT id FROM u`,
        [username, hash],
      );
      return r.rows.length > 0;
    },
    async list(): Promise<User[]> {
      return (await db.query<UserRow>('SELECT * FROM users ORDER BY created_at, username')).rows.map(toUser);
    },
    async get(id: string): Promise<User | null> {
      const r = (await db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id])).rows[0];
      return r ? toUser(r) : null;
    },
    /** Disables a user and ends their sessions at once. */
    async disable(username: string): Promise<boolean> {
      const r = await db.query<{ id: string }>('UPDATE users SET disabled_at = now() WHERE username = $1 AND disabled_at IS NULL RETURNING id', [username]);
      if (!r.rows[0]) return false;
      await revokeSessionsOf(r.rows[0].id);
      return true;
    },
    /**
     * Checks a password. A disabled or unknown user fails the same way as a wrong password (and takes as
     * long). Lockouts are decided from the sign-in attempts (storage/repos/login-attempts.ts).
     */
    async checkPassword(username: string, password: string): Promise<LoginCheck> {
      const row = (await db.query<UserRow>('SELECT * FROM users WHERE username = $1', [username])).rows[0];
      if (!row || row.disabled_at) {
        dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
        await argon2Verify(await dummyHash, password).catch(() => false);
        return { outcome: 'failed' };
      }
      const ok = await argon2Verify(row.password_hash, password).catch(() => false);
      if (!ok) return { outcome: 'failed' };
      await db.query('UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1 AND locked_until IS NOT NULL', [row.id]);
      return { outcome: 'ok', user: toUser({ ...row, failed_logins: 0, locked_until: null }) };
    },
    async createSession(userId: string, ttlMs: number): Promise<{ token: string; expiresAt: string }> {
      const token = `tws_${randomBytes(32).toString('base64url')}`;
      const r = (
        await db.query<{ expires_at: Date | string }>(
          `INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, now() + ($3::double precision * interval '1 millisecond'))
           RETURNING expires_at`,
          [sha256(token), userId, ttlMs],
        )
      ).rows[0]!;
      return { token, expiresAt: iso(r.expires_at)! };
    },
    /** The active user holding this session token, or null (unknown, expired, revoked, user disabled). */
    async userForSession(token: string): Promise<User | null> {
      const r = (
        await db.query<UserRow>(
          `SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id
           WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL`,
          [sha256(token)],
        )
      ).rows[0];
      return r ? toUser(r) : null;
    },
    async revokeSession(token: string): Promise<void> {
      await db.query('UPDATE sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL', [sha256(token)]);
    },
  };
}

export type UsersRepo = ReturnType<typeof usersRepo>;
