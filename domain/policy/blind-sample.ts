// Blind re-review sampling: which would-be auto-clears go to a reviewer anyway. Drawn from a hash of the
// scan id (and the policy's salt) so the same scan is always drawn the same way: reproducible and auditable.
import { createHash } from 'node:crypto';

/** A number in [0, 1) fixed by the scan id and salt. */
export function blindSampleDraw(scanId: string, salt = ''): number {
  const digest = createHash('sha256').update(`${salt}\u0000${scanId}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

export function isBlindSample(scanId: string, rate: number, salt = ''): boolean {
  return rate > 0 && blindSampleDraw(scanId, salt) < rate;
}
