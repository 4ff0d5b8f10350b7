// `npm run worker`: a pipeline worker process (any number may run, on any machine).
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase, openObjectStore } from '../storage/open.js';
import { createServer } from 'node:http';
import { registry } from '../pipeline/metrics.js';
import { createLogger, onShutdown, startPipeline } from './wiring.js';

try {
  const config = loadConfig();
  if (!config.redisUrl) throw new ConfigError('REDIS_URL', 'is required for `npm run worker` (the embedded mode is `npm run demo`)');
  const logger = createLogger(config, 'tidewatch-worker');
  const db = await openDatabase(config);
  const objects = await openObjectStore(config);
  const pipeline = await startPipeline({ config, logger, db, objects, redisUrl: config.redisUrl });
  // Prometheus scrape endpoint of this worker (stage latencies, model batches, verdicts).
  const metrics = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    registry.metrics().then((body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body), () => res.writeHead(500).end());
  });
  if (config.metricsPort) metrics.listen(config.metricsPort, config.host);
  logger.info({ metrics: config.metricsPort ? `http://${config.host}:${config.metricsPort}/metrics` : 'off' }, 'worker started');
  onShutdown(logger, async () => {
    metrics.close();
    await pipeline.close();
    await db.close();
  });
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
