// Starts a private redis-server (embedded mode and fault tests): free port, AOF on, in a folder of ours.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';

export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  /** Stops the server; `signal` SIGKILL simulates a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and folder (the AOF brings back what was acknowledged). */
  restart(): Promise<void>;
}

export class RedisBinaryMissingError extends Error {
  constructor() {
    super('redis-server was not found on PATH. Install it (Debian/Ubuntu: `sudo apt-get install redis-server`, macOS: `brew install redis`) or set REDIS_URL to a running Redis.');
    this.name = 'RedisBinaryMissingError';
  }
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

function hasRedisBinary(bin: string): boolean {
  const r = spawnSync(bin, ['--version'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch {
      client.disconnect();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`redis-server at ${url} did not become ready in ${timeoutMs} ms`);
}

export async function startRedisServer(dir: string, opts: { port?: number; bin?: string } = {}): Promise<RedisServer> {
  const bin = opts.bin ?? 'redis-server';
  if (!hasRedisBinary(bin)) throw new RedisBinaryMissingError();
  const absDir = resolve(dir);
  await mkdir(absDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;

  const launch = async () => {
    child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', absDir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--daemonize', 'no', '--logfile', 'redis.log', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    child.unref();
    await waitReady(url, 10_000);
  };
  await launch();

  const server: RedisServer = {
    url,
    port,
    dir: absDir,
    async stop(signal = 'SIGTERM') {
      const c = child;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((res) => {
        c.once('exit', () => res());
        c.kill(signal);
      });
      child = null;
    },
    async restart() {
      await server.stop();
      await launch();
    },
  };
  return server;
}
