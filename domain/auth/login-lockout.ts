// Sign-in lockout keyed on the account AND the address. Failures from one address lock the account for
// that address only, so one attacker cannot lock people out from a single machine; failures from all
// addresses together (each address counting at most `maxFailures`) lock the account everywhere, so a
// distributed guessing attack on one account still locks it. A success from an address clears that
// address's failures; a new password (a 'reset' attempt) ends every earlier lockout.

export type LoginOutcome = 'ok' | 'failed' | 'refused' | 'reset';
export type LockScope = 'address' | 'account';

export interface LoginAttempt {
  ip: string;
  outcome: LoginOutcome;
  /** The lockout this failure started, if any. */
  locks: LockScope | null;
  /** Milliseconds since the epoch. */
  at: number;
}

export interface LoginLockoutRules {
  /** Failures from one address that lock the account for that address. */
  maxFailures: number;
  /** Failures from every address together (each address counting at most maxFailures) that lock the account everywhere. */
  accountMaxFailures: number;
  /** How long a lockout lasts. */
  lockoutMs: number;
  /** Failures older than this are forgotten. */
  failureWindowMs: number;
}

export type LockoutState =
  | { locked: false; addressFailures: number; accountFailures: number }
  | { locked: true; scope: LockScope; until: number };

/** How long attempts matter: older ones can be deleted. */
export function loginRetentionMs(rules: LoginLockoutRules, rateWindowMs = 0): number {
  return Math.max(rules.lockoutMs, rules.failureWindowMs, rateWindowMs);
}

function last<T>(items: readonly T[], test: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i]!)) return items[i];
  return undefined;
}

/**
 * The account's state as seen from `ip`, given the account's attempts (oldest first; attempts of other
 * accounts must not be passed) at `now`.
 */
export function loginLockout(attempts: readonly LoginAttempt[], ip: string, now: number, rules: LoginLockoutRules): LockoutState {
  const resetAt = attempts.reduce((t, a) => (a.outcome === 'reset' ? Math.max(t, a.at) : t), -Infinity);
  const live = attempts.filter((a) => a.at > resetAt && (a.outcome === 'ok' || a.outcome === 'failed'));
  const accountLock = last(live, (a) => a.locks === 'account');
  if (accountLock && accountLock.at + rules.lockoutMs > now) return { locked: true, scope: 'account', until: accountLock.at + rules.lockoutMs };
  const addressLock = last(live, (a) => a.ip === ip && a.locks !== null);
  if (addressLock && addressLock.at + rules.lockoutMs > now) return { locked: true, scope: 'address', until: addressLock.at + rules.lockoutMs };

  const windowStart = now - rules.failureWindowMs;
  // Per address: failures since its last success and its last lockout (address count), and since its
  // last success and the last account lockout (its share of the account count).
  const byAddress = new Map<string, { sinceLock: number; share: number }>();
  for (const a of live) {
    const c = byAddress.get(a.ip) ?? { sinceLock: 0, share: 0 };
    byAddress.set(a.ip, c);
    if (a.outcome === 'ok') {
      c.sinceLock = 0;
      c.share = 0;
      continue;
    }
    if (a.at > windowStart) {
      c.sinceLock++;
      c.share++;
    }
    if (a.locks !== null) c.sinceLock = 0;
    if (a.locks === 'account') for (const other of byAddress.values()) other.share = 0;
  }
  let accountFailures = 0;
  for (const c of byAddress.values()) accountFailures += Math.min(rules.maxFailures, c.share);
  return { locked: false, addressFailures: byAddress.get(ip)?.sinceLock ?? 0, accountFailures };
}

/**
 * What a failure from `ip` at `now` starts, given the account's attempts before it: the account lockout
 * when the failures of every address reach `accountMaxFailures`, else the address lockout at
 * `maxFailures`; and the state the failure leaves (locked when it started a lockout or one was already on).
 */
export function lockoutAfterFailure(
  before: readonly LoginAttempt[],
  ip: string,
  now: number,
  rules: LoginLockoutRules,
): { starts: LockScope | null; state: LockoutState } {
  const state = loginLockout([...before, { ip, outcome: 'failed', locks: null, at: now }], ip, now, rules);
  if (state.locked) return { starts: null, state }; // a lockout started by a concurrent attempt
  const starts = state.accountFailures >= rules.accountMaxFailures ? 'account' : state.addressFailures >= rules.maxFailures ? 'address' : null;
  return { starts, state: starts ? { locked: true, scope: starts, until: now + rules.lockoutMs } : state };
}
