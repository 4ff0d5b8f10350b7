// Sign-in attempts: the per-address rate limit and the account/address lockouts
// (domain/auth/login-lockout.ts) are read from them. Times are the database's, so every API process
// agrees. Every write also deletes attempts older than the longest window, so the table stays small.
import { lockoutAfterFailure, loginLockout, loginRetentionMs, type LockScope, type LockoutState, type LoginAttempt, type LoginLockoutRules, type LoginOutcome } from '../../domain/auth/login-lockout.js';
import type { Queryable } from '../db/sql.js';

export interface LoginThrottleRules extends LoginLockoutRules {
  /** Attempts one address may make per `rateWindowMs`. */
  rateLimit: number;
  rateWindowMs: number;
}

/** Usernames are stored as sent, cut to the length the login route accepts. */
const name = (username: string) => username.slice(0, 128);

export function loginAttemptsRepo(db: Queryable, rules: LoginThrottleRules) {
  const retentionMs = loginRetentionMs(rules, rules.rateWindowMs);

  /** The account's attempts that can still matter (turned-away ones never do), oldest first, and the database's now. */
  async function history(username: string, exceptId?: string): Promise<{ attempts: LoginAttempt[]; now: number }> {
    const r = (
      await db.query<{ now_ms: number; attempts: Array<{ ip: string; outcome: LoginOutcome; locks: LockScope | null; at: number }> }>(
        `SELECT (EXTRACT(EPOCH FROM now()) * 1000)::float8 AS now_ms,
           COALESCE((SELECT json_agg(json_build_object('ip', ip, 'outcome', outcome, 'locks', locks, 'at', (EXTRACT(EPOCH FROM at) * 1000)::float8) ORDER BY at, id)
             FROM login_attempts
             WHERE username = $1 AND outcome <> 'refused' AND at > now() - ($2::double precision * interval '1 millisecond')
               AND ($3::bigint IS NULL OR id <> $3::bigint)), '[]'::json) AS attempts`,
        [name(username), retentionMs, exceptId ?? null],
      )
    ).rows[0]!;
    return { attempts: r.attempts, now: Number(r.now_ms) };
  }

  async function insert(ip: string, username: string, outcome: LoginOutcome): Promise<string> {
    await prune();
    const r = await db.query<{ id: string | number }>(
      'INSERT INTO login_attempts (ip, username, ok, outcome) VALUES ($1, $2, $3, $4) RETURNING id',
      [ip, name(username), outcome === 'ok', outcome],
    );
    return String(r.rows[0]!.id);
  }

  /** Deletes attempts older than every window (rate limit, failure window, lockout). */
  async function prune(): Promise<number> {
    const r = await db.query('DELETE FROM login_attempts WHERE at < now() - ($1::double precision * interval \'1 millisecond\') RETURNING id', [retentionMs]);
    return r.rows.length;
  }

  return {
    prune,
    /** Attempts from this address inside the rate window, and when the oldest of them leaves it. */
    async fromAddress(ip: string): Promise<{ limited: boolean; count: number; retryAfterMs: number }> {
      const r = (
        await db.query<{ n: string; oldest_ms: number | null }>(
          `SELECT count(*)::text AS n,
             EXTRACT(EPOCH FROM (min(at) + ($2::double precision * interval '1 millisecond') - now())) * 1000 AS oldest_ms
           FROM login_attempts WHERE ip = $1 AND at > now() - ($2::double precision * interval '1 millisecond')`,
          [ip, rules.rateWindowMs],
        )
      ).rows[0]!;
      const count = Number(r.n);
      return { limited: count >= rules.rateLimit, count, retryAfterMs: Math.max(0, Number(r.oldest_ms ?? 0)) };
    },
    /** Whether the account is locked for this address (or for every address). */
    async lockout(username: string, ip: string): Promise<LockoutState> {
      const { attempts, now } = await history(username);
      return loginLockout(attempts, ip, now, rules);
    },
    /** Records an attempt that needs no lockout decision: a success, or one turned away while locked. */
    async record(ip: string, username: string, outcome: 'ok' | 'refused'): Promise<void> {
      await insert(ip, username, outcome);
    },
    /**
     * Records a failed password and answers the state it leaves. The row is written before the count is
     * read, so concurrent failures never hide each other (at worst both start the lockout).
     */
    async recordFailure(ip: string, username: string): Promise<LockoutState> {
      const id = await insert(ip, username, 'failed');
      const { attempts, now } = await history(username, id);
      const { starts, state } = lockoutAfterFailure(attempts, ip, now, rules);
      if (starts) {
        await db.query('UPDATE login_attempts SET locks = $2 WHERE id = $1', [id, starts]);
        // Shown by `user list`; the lockout itself is read from the attempts.
        if (starts === 'account') {
          await db.query(`UPDATE users SET locked_until = now() + ($2::double precision * interval '1 millisecond') WHERE username = $1`, [name(username), rules.lockoutMs]);
        }
      }
      return state;
    },
  };
}

export type LoginAttemptsRepo = ReturnType<typeof loginAttemptsRepo>;
