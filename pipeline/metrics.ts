// Prometheus metrics of the pipeline and the API (prom-client). One registry per process; the API serves
// it at /metrics, a worker process on its own METRICS_PORT.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
// Default metrics include event-loop lag (nodejs_eventloop_lag_*), heap and RSS.
collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });

const STAGE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const stageSeconds = new Histogram({
  name: 'tidewatch_stage_seconds',
  help: 'Time spent in one pipeline stage for one scan',
  labelNames: ['stage', 'outcome'] as const,
  buckets: STAGE_BUCKETS,
  registers: [registry],
});

export const pushToVerdictSeconds = new Histogram({
  name: 'tidewatch_push_to_verdict_seconds',
  help: 'From the scan being stored to its machine verdict',
  labelNames: ['modality'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300],
  registers: [registry],
});

export const verdictsTotal = new Counter({
  name: 'tidewatch_machine_verdicts_total',
  help: 'Machine verdicts by decision (auto-clear rate = clear / all)',
  labelNames: ['modality', 'decision'] as const,
  registers: [registry],
});

export const modelSeconds = new Histogram({
  name: 'tidewatch_model_batch_seconds',
  help: 'Time of one ONNX Runtime batch',
  labelNames: ['model'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  registers: [registry],
});

export const modelBatchSize = new Histogram({
  name: 'tidewatch_model_batch_size',
  help: 'Images per ONNX Runtime batch (cross-job micro-batching)',
  labelNames: ['model'] as const,
  buckets: [1, 2, 4, 8, 16, 32, 64],
  registers: [registry],
});

export const queueDepth = new Gauge({
  name: 'tidewatch_queue_depth',
  help: 'Jobs waiting, delayed or active per stage',
  labelNames: ['stage'] as const,
  registers: [registry],
});

export const httpSeconds = new Histogram({
  name: 'tidewatch_http_request_seconds',
  help: 'API request duration by route and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});
