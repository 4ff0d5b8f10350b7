// `npm run api`: the production API process (PostgreSQL, Redis, S3 from the environment).
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase, openObjectStore } from '../storage/open.js';
import { createLogger, onShutdown, startApi } from './wiring.js';

try {
  const config = loadConfig();
  if (!config.redisUrl) throw new ConfigError('REDIS_URL', 'is required for `npm run api` (the embedded mode is `npm run demo`)');
  const logger = createLogger(config, 'tidewatch-api');
  const db = await openDatabase(config);
  const objects = await openObjectStore(config);
  const api = await startApi({ config, logger, db, objects, redisUrl: config.redisUrl });
  logger.info(`api: ${api.address}`);
  onShutdown(logger, async () => {
    await api.close();
    await db.close();
  });
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
