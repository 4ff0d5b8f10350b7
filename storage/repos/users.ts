// People who sign in (reviewers in tiers A/B/C, supervisors, risk control, admins), their sessions and
// login attempts. Passwords are argon2id; session tokens are random and stored only as sha256 hashes.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import type { Queryable } from '../db/sql.js';

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

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

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

export type LoginCheck =
  | { outcome: 'ok'; user: User }
  | { outcome: 'failed' }
  | { outcome: 'locked'; lockedUntil: string };

export function usersRepo(db: Queryable) {
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
    /** Sets a new password (and clears a lockout); false when no such user. */
    async setPassword(username: string, password: string): Promise<boolean> {
      const r = await db.query('UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE username = $1 RETURNING id', [username, await hashPassword(password)]);
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
      await db.query('UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [r.rows[0].id]);
      return true;
    },
    /**
     * Checks a password. `maxFailures` consecutive failures lock the account for `lockoutMs`; a success
     * resets the count. A disabled or unknown user fails the same way as a wrong password.
     */
    async checkPassword(username: string, password: string, opts: { maxFailures: number; lockoutMs: number }): Promise<LoginCheck> {
      const row = (
        await db.query<UserRow & { locked: boolean }>('SELECT *, (locked_until IS NOT NULL AND locked_until > now()) AS locked FROM users WHERE username = $1', [username])
      ).rows[0];
      if (!row || row.disabled_at) {
        dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
        await argon2Verify(await dummyHash, password).catch(() => false);
        return { outcome: 'failed' };
      }
      if (row.locked) return { outcome: 'locked', lockedUntil: iso(row.locked_until)! };
      const ok = await argon2Verify(row.password_hash, password).catch(() => false);
      if (ok) {
        await db.query('UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1', [row.id]);
        return { outcome: 'ok', user: toUser({ ...row, failed_logins: 0, locked_until: null }) };
      }
      const updated = (
        await db.query<{ failed_logins: number; locked_until: Date | string | null }>(
          `UPDATE users SET failed_logins = failed_logins + 1,
             locked_until = CASE WHEN failed_logins + 1 >= $2 THEN now() + ($3::double precision * interval '1 millisecond') ELSE locked_until END
           WHERE id = $1 RETURNING failed_logins, locked_until`,
          [row.id, opts.maxFailures, opts.lockoutMs],
        )
      ).rows[0]!;
      if (updated.failed_logins >= opts.maxFailures) {
        await db.query('UPDATE users SET failed_logins = 0 WHERE id = $1', [row.id]);
        return { outcome: 'locked', lockedUntil: iso(updated.locked_until)! };
      }
      return { outcome: 'failed' };
    },
    async recordAttempt(ip: string, username: string, ok: boolean): Promise<void> {
      await db.query('INSERT INTO login_attempts (ip, username, ok) VALUES ($1, $2, $3)', [ip, username.slice(0, 128), ok]);
    },
    /** Attempts from this address inside the window, and when the oldest of them leaves it. */
    async recentAttempts(ip: string, windowMs: number): Promise<{ count: number; retryAfterMs: number }> {
      const r = (
        await db.query<{ n: string; oldest_ms: number | null }>(
          `SELECT count(*)::text AS n,
             EXTRACT(EPOCH FROM (min(at) + ($2::double precision * interval '1 millisecond') - now())) * 1000 AS oldest_ms
           FROM login_attempts WHERE ip = $1 AND at > now() - ($2::double precision * interval '1 millisecond')`,
          [ip, windowMs],
        )
      ).rows[0]!;
      return { count: Number(r.n), retryAfterMs: Math.max(0, Number(r.oldest_ms ?? 0)) };
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
