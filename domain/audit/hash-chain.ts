// The audit log's hash chain: each entry's hash covers the previous hash and the entry's canonical JSON,
// so a changed, reordered or deleted row breaks verification. Pure given the hash function.
import { createHash } from 'node:crypto';

export type HashFn = (text: string) => string;

export const sha256Hex: HashFn = (text) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The hash before the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** JSON with object keys sorted and undefined members dropped, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): Json {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('audit payloads hold finite numbers only');
    return value as Json;
  }
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sortKeys(v)));
  if (value instanceof Date) return value.toISOString();
  const out: { [key: string]: Json } = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sortKeys(v);
  }
  return out;
}

export interface AuditEntry<P = unknown> {
  seq: number;
  prevHash: string;
  hash: string;
  payload: P;
}

export function auditEntryHash(seq: number, prevHash: string, payload: unknown, hash: HashFn = sha256Hex): string {
  return hash(`${seq}\n${prevHash}\n${canonicalJson(payload)}`);
}

/** The next entry after `previous` (or the first one when there is none). */
export function appendAuditEntry<P>(previous: AuditEntry | undefined, payload: P, hash: HashFn = sha256Hex): AuditEntry<P> {
  const seq = previous ? previous.seq + 1 : 1;
  const prevHash = previous ? previous.hash : GENESIS_HASH;
  return { seq, prevHash, hash: auditEntryHash(seq, prevHash, payload, hash), payload };
}

export type AuditChainCheck =
  | { ok: true; entries: number; headHash: string }
  | { ok: false; seq: number; code: 'AUDIT_HASH_MISMATCH' | 'AUDIT_LINK_BROKEN' | 'AUDIT_SEQUENCE_GAP'; message: string };

/**
 * Verifies a chain in order. A deleted last entry cannot be seen from the rows alone: compare `headHash`
 * with one recorded elsewhere (a signed checkpoint) to catch that too.
 */
export function verifyAuditChain(entries: readonly AuditEntry[], hash: HashFn = sha256Hex): AuditChainCheck {
  let prevHash = GENESIS_HASH;
  let expectedSeq = entries[0]?.seq ?? 1;
  if (expectedSeq !== 1) return { ok: false, seq: expectedSeq, code: 'AUDIT_SEQUENCE_GAP', message: `the chain starts at ${expectedSeq}, not 1` };
  for (const e of entries) {
    if (e.seq !== expectedSeq) {
      return { ok: false, seq: e.seq, code: 'AUDIT_SEQUENCE_GAP', message: `entry ${expectedSeq} is missing (found ${e.seq})` };
    }
    if (e.prevHash !== prevHash) {
      return { ok: false, seq: e.seq, code: 'AUDIT_LINK_BROKEN', message: `entry ${e.seq} does not follow the entry before it` };
    }
    if (auditEntryHash(e.seq, e.prevHash, e.payload, hash) !== e.hash) {
      return { ok: false, seq: e.seq, code: 'AUDIT_HASH_MISMATCH', message: `entry ${e.seq} was changed after it was written` };
    }
    prevHash = e.hash;
    expectedSeq++;
  }
  return { ok: true, entries: entries.length, headHash: prevHash };
}
