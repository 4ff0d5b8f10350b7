// What the stages need from the outside world, passed in once by the worker's wiring.
import type { Logger } from 'pino';
import type { RiskPolicy } from '../domain/policy/policy.js';
import type { ReviewSla } from '../domain/review/queue-priority.js';
import type { ModelRuntime } from '../models/runtime/types.js';
import type { Sql } from '../storage/db/sql.js';
import type { ObjectStore } from '../storage/objects/object-store.js';
import type { Queues } from './queues.js';

export interface PipelineDeps {
  db: Sql;
  objects: ObjectStore;
  queues: Queues;
  runtime: ModelRuntime;
  logger: Logger;
  maxImagePixels: number;
  policy: RiskPolicy;
  /** A candidate policy evaluated beside the active one in shadow mode (never acted on). */
  shadowPolicy?: RiskPolicy;
  /** Shadow mode for candidate models: the registry with the candidates laid over it (SHADOW_MODELS_DIR). */
  shadowRuntime?: ModelRuntime;
  /** How long a scan waits for its declaration before it is assessed without one. */
  declarationWaitMs: number;
  /** Review deadlines per queue tier (REVIEW_SLA_*); absent → the domain defaults. */
  reviewSla?: ReviewSla;
  now: () => Date;
}
