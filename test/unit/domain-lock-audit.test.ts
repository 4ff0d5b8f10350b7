import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LOCK_STATES, mayLeaveGate, transitionLock, type LockEvent, type LockState } from '../../domain/review/lock-instruction.js';
import { appendAuditEntry, canonicalJson, verifyAuditChain, type AuditEntry } from '../../domain/audit/hash-chain.js';

const release: LockEvent = { type: 'release', role: 'supervisor', reason: 'inspection found nothing' };
const seize: LockEvent = { type: 'seize', role: 'supervisor', reason: 'undeclared cigarettes' };
const events: LockEvent[] = [{ type: 'send' }, { type: 'acknowledge' }, { type: 'start-inspection' }, release, seize];

describe('lock instruction state machine', () => {
  it.each([
    ['requested', { type: 'send' }, 'sent'],
    ['sent', { type: 'acknowledge' }, 'acknowledged'],
    ['acknowledged', { type: 'start-inspection' }, 'inspecting'],
    ['inspecting', release, 'released'],
    ['inspecting', seize, 'seized'],
  ] as Array<[LockState, LockEvent, LockState]>)('%s --%j--> %s', (from, event, to) => {
    expect(transitionLock(from, event)).toEqual({ ok: true, from, to });
  });

  it.each([
    ['requested', { type: 'acknowledge' }, 'LOCK_TRANSITION_ILLEGAL'],
    ['sent', release, 'LOCK_TRANSITION_ILLEGAL'],
    ['requested', seize, 'LOCK_TRANSITION_ILLEGAL'],
    ['released', { type: 'send' }, 'LOCK_CLOSED'],
    ['seized', release, 'LOCK_CLOSED'],
    ['inspecting', { type: 'release', role: 'reviewer', reason: 'looks fine' }, 'LOCK_ROLE_FORBIDDEN'],
    ['inspecting', { type: 'seize', role: 'supervisor', reason: '  ' }, 'LOCK_REASON_REQUIRED'],
  ] as Array<[LockState, LockEvent, string]>)('%s --%j--> refused %s', (from, event, code) => {
    const r = transitionLock(from, event);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe(code);
  });

  it('any sequence of events only ever moves forward, and only release opens the gate', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...events), { maxLength: 12 }), (seq) => {
        let state: LockState = 'requested';
        for (const e of seq) {
          const r = transitionLock(state, e);
          if (r.ok) {
            if (LOCK_STATES.indexOf(r.to) <= LOCK_STATES.indexOf(state)) return false;
            state = r.to;
          }
        }
        return mayLeaveGate([state]) === (state === 'released');
      }),
    );
  });

  it('the gate says no while any lock on the container is not released', () => {
    expect(mayLeaveGate([])).toBe(true);
    expect(mayLeaveGate(['released', 'released'])).toBe(true);
    expect(mayLeaveGate(['released', 'inspecting'])).toBe(false);
    expect(mayLeaveGate(['seized'])).toBe(false);
  });
});

describe('audit hash chain', () => {
  const build = (payloads: unknown[]): AuditEntry[] => {
    const chain: AuditEntry[] = [];
    for (const p of payloads) chain.push(appendAuditEntry(chain.at(-1), p));
    return chain;
  };
  const payloads = [
    { action: 'verdict', scanId: 's1', decision: 'hold', by: 'machine' },
    { action: 'lock', scanId: 's1', to: 'sent', by: 'outbox' },
    { action: 'release', scanId: 's1', by: 'sup-1', reason: 'nothing found' },
  ];

  it('verifies an untouched chain and reports its head', () => {
    const chain = build(payloads);
    expect(verifyAuditChain(chain)).toEqual({ ok: true, entries: 3, headHash: chain[2]!.hash });
    expect(verifyAuditChain([])).toMatchObject({ ok: true, entries: 0 });
  });

  it.each([
    ['a changed payload', (c: AuditEntry[]) => (c[1] = { ...c[1]!, payload: { ...(c[1]!.payload as object), by: 'someone' } }), 'AUDIT_HASH_MISMATCH', 2],
    ['a deleted row', (c: AuditEntry[]) => c.splice(1, 1), 'AUDIT_SEQUENCE_GAP', 3],
    ['a deleted and renumbered row', (c: AuditEntry[]) => {
      c.splice(1, 1);
      c[1] = { ...c[1]!, seq: 2 };
    }, 'AUDIT_LINK_BROKEN', 2],
    ['a deleted first row', (c: AuditEntry[]) => c.shift(), 'AUDIT_SEQUENCE_GAP', 2],
  ] as const)('detects %s', (_n, tamper, code, seq) => {
    const chain = build(payloads);
    tamper(chain);
    expect(verifyAuditChain(chain)).toMatchObject({ ok: false, code, seq });
  });

  it('hashes canonical JSON: key order does not matter, values do', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: undefined } })).toBe('{"a":{"d":[1,{"e":3,"f":2}]},"b":1}');
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { minLength: 1, maxLength: 6 }), fc.nat(), (ps, k) => {
        const chain = build(ps);
        if (!verifyAuditChain(chain).ok) return false;
        const i = k % chain.length;
        const tampered = [...chain];
        tampered[i] = { ...chain[i]!, payload: { tampered: chain[i]!.payload } };
        return !verifyAuditChain(tampered).ok;
      }),
    );
  });

  it('accepts a hash function passed in', () => {
    const weak = (s: string) => String(s.length);
    const chain = [appendAuditEntry(undefined, { a: 1 }, weak)];
    expect(verifyAuditChain(chain, weak).ok).toBe(true);
    expect(verifyAuditChain(chain).ok).toBe(false);
  });
});
