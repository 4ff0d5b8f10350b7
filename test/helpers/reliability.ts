// Fault tests record what they injected and what became of the accepted scans; the reliability report
// (scripts/reliability-report.ts) sums these lines into "scans lost: 0".
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const OUTCOMES_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-results', 'reliability-outcomes.jsonl');

export interface FaultOutcome {
  fault: string;
  /** Scans the system answered 2xx for. */
  accepted: number;
  /** Accepted scans with exactly one machine verdict at the end. */
  withOneVerdict: number;
  /** Accepted scans with more than one machine verdict. */
  duplicated: number;
}

export function recordOutcome(o: FaultOutcome): void {
  mkdirSync(dirname(OUTCOMES_FILE), { recursive: true });
  appendFileSync(OUTCOMES_FILE, JSON.stringify({ ...o, lost: o.accepted - o.withOneVerdict - o.duplicated, at: new Date().toISOString() }) + '\n');
}

/** Counts machine verdicts per scan id among `ids`: the figures a fault test records. */
export function tally(ids: readonly string[], verdictsPerScan: Map<string, number> | Record<string, number>) {
  const get = (id: string) => (verdictsPerScan instanceof Map ? verdictsPerScan.get(id) : verdictsPerScan[id]) ?? 0;
  return {
    accepted: ids.length,
    withOneVerdict: ids.filter((id) => get(id) === 1).length,
    duplicated: ids.filter((id) => get(id) > 1).length,
  };
}
