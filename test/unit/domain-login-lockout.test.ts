// Sign-in lockouts keyed on the account and the address: one address locks only itself out; many
// addresses together lock the account; successes, lockout expiry and password resets clear counts.
import { describe, expect, it } from 'vitest';
import { lockoutAfterFailure, loginLockout, loginRetentionMs, type LoginAttempt, type LoginLockoutRules } from '../../domain/auth/login-lockout.js';

const rules: LoginLockoutRules = { maxFailures: 3, accountMaxFailures: 6, lockoutMs: 60_000, failureWindowMs: 600_000 };

/** Plays failed attempts through the rules as the repository does: each failure records what it starts. */
function play(steps: Array<[ip: string, outcome: 'ok' | 'failed' | 'reset', at: number]>): LoginAttempt[] {
  const log: LoginAttempt[] = [];
  for (const [ip, outcome, at] of steps) {
    if (outcome === 'failed') {
      const state = loginLockout(log, ip, at, rules);
      if (state.locked) {
        log.push({ ip, outcome: 'refused', locks: null, at });
        continue;
      }
      log.push({ ip, outcome, locks: lockoutAfterFailure(log, ip, at, rules).starts, at });
    } else log.push({ ip, outcome, locks: null, at });
  }
  return log;
}

const fails = (ip: string, n: number, from: number): Array<[string, 'failed', number]> => Array.from({ length: n }, (_, i) => [ip, 'failed', from + i]);

describe('login lockout', () => {
  it('locks the account for the failing address only', () => {
    const log = play(fails('10.0.0.1', 3, 0));
    expect(log.map((a) => a.locks)).toEqual([null, null, 'address']);
    expect(loginLockout(log, '10.0.0.1', 10, rules)).toEqual({ locked: true, scope: 'address', until: 60_002 });
    expect(loginLockout(log, '10.0.0.2', 10, rules)).toMatchObject({ locked: false, addressFailures: 0, accountFailures: 3 });
  });

  it('one address hammering many accounts (or one account for long) never locks an account for others', () => {
    // 3 failures, locked, lock expires, 3 more, ... : the address's share of the account count stays 3.
    const log = play([...fails('10.0.0.1', 3, 0), ...fails('10.0.0.1', 20, 1_000), ...fails('10.0.0.1', 3, 61_000), ...fails('10.0.0.1', 3, 122_000)]);
    expect(log.filter((a) => a.locks === 'account')).toEqual([]);
    expect(loginLockout(log, '10.0.0.9', 130_000, rules)).toMatchObject({ locked: false, accountFailures: 3 });
    // Attempts turned away while locked do not count at all.
    expect(log.filter((a) => a.outcome === 'refused')).toHaveLength(20);
  });

  it('a distributed attack locks the account everywhere', () => {
    const log = play([...fails('10.0.0.1', 2, 0), ...fails('10.0.0.2', 2, 10), ...fails('10.0.0.3', 2, 20)]);
    expect(log.at(-1)!.locks).toBe('account');
    expect(loginLockout(log, '10.9.9.9', 100, rules)).toEqual({ locked: true, scope: 'account', until: 60_021 });
    // After the lockout the count starts again.
    expect(loginLockout(log, '10.9.9.9', 60_021, rules)).toMatchObject({ locked: false, accountFailures: 0 });
  });

  it('a success clears that address only; failures leave the window; a reset ends lockouts', () => {
    const log = play([...fails('10.0.0.1', 2, 0), ...fails('10.0.0.2', 2, 10), ['10.0.0.1', 'ok', 20]]);
    expect(loginLockout(log, '10.0.0.2', 30, rules)).toMatchObject({ addressFailures: 2, accountFailures: 2 });
    expect(loginLockout(log, '10.0.0.2', 600_011, rules)).toMatchObject({ addressFailures: 0, accountFailures: 0 });
    const locked = play([...fails('10.0.0.1', 3, 0), ['', 'reset', 5]]);
    expect(loginLockout(locked, '10.0.0.1', 6, rules)).toMatchObject({ locked: false, addressFailures: 0 });
  });

  it('with the account limit equal to the address limit one address locks the account (the old rule)', () => {
    const strict = { ...rules, accountMaxFailures: 3 };
    const log: LoginAttempt[] = [];
    for (let i = 0; i < 3; i++) log.push({ ip: 'a', outcome: 'failed', locks: lockoutAfterFailure(log, 'a', i, strict).starts, at: i });
    expect(log.at(-1)!.locks).toBe('account');
  });

  it('keeps attempts as long as the longest window', () => {
    expect(loginRetentionMs(rules, 30_000)).toBe(600_000);
    expect(loginRetentionMs({ ...rules, lockoutMs: 900_000 }, 30_000)).toBe(900_000);
  });
});
