// The one place to see every job: name → payload schema → queue. Payloads are ids only; pixels travel
// through the object store. Job ids are deterministic (<stage>.<scanId>) so a re-enqueue never duplicates.
import { Type, type Static } from 'typebox';
import type { Scan } from '../storage/repos/scans.js';

export const ScanJobPayload = Type.Object({ scanId: Type.String({ minLength: 1, maxLength: 128 }) });
export type ScanJobPayload = Static<typeof ScanJobPayload>;

/** Stages in pipeline order; each stage's handler names the next on success. */
export const STAGES = ['preprocess', 'infer', 'assess', 'route'] as const;
export type Stage = (typeof STAGES)[number];

export const JOBS: Record<Stage, { queue: string; payload: typeof ScanJobPayload; attempts: number }> = {
  preprocess: { queue: 'scan-preprocess', payload: ScanJobPayload, attempts: 5 },
  infer: { queue: 'scan-infer', payload: ScanJobPayload, attempts: 5 },
  assess: { queue: 'scan-assess', payload: ScanJobPayload, attempts: 5 },
  route: { queue: 'scan-route', payload: ScanJobPayload, attempts: 8 },
};

/** BullMQ refuses ':' in custom ids, so the stage and scan are joined with '.'. */
export function jobId(stage: Stage, scanId: string): string {
  return `${stage}.${scanId}`;
}

/**
 * What a stage hands on: the stage the scan needs next, and with it the scan as this stage stored it (so the
 * next stage, run in the same job, need not read it back).
 */
export interface StageNext {
  next: Stage;
  scan: Scan;
  /**
   * Stores what this stage did (its status), when the stage left that to the next one: `scan` then holds it in
   * memory only, and the next stage, run in this job, stores it with its own in one update. The worker calls
   * `save` whenever the next stage does not run in this job (another worker's queue, a retry from its own
   * queue); a crash before either loses only work that is done again (the scan's stored status is the earlier).
   */
  save?: () => Promise<unknown>;
}

/**
 * A stage's work for one scan. It returns the stage the scan needs next (or nothing when the scan waits or
 * is done); the worker runs that stage in the same job when it serves it, else enqueues its job. `carried` is
 * the scan as the previous stage of the same job stored it; without it the stage reads the scan.
 */
export type StageHandler = (payload: ScanJobPayload, carried?: Scan) => Promise<Stage | StageNext | void>;
export type StageHandlers = Record<Stage, StageHandler>;

/** Boot fails when a stage has no handler: a job that nobody processes is a scan that never gets a verdict. */
export function assertAllHandlers(handlers: Partial<StageHandlers>): asserts handlers is StageHandlers {
  const missing = STAGES.filter((s) => typeof handlers[s] !== 'function');
  if (missing.length) throw new Error(`no handler registered for job(s): ${missing.join(', ')}`);
}
