// Starts a private redis-server (embedded mode and fault tests): free port, AOF on, in a folder of ours.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
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

/**
 * A free TCP port for a server we start (and may kill and restart on the same port). It is drawn at random
 * from BELOW the kernel's ephemeral range: ports handed out for `listen(0)` and for outgoing connections
 * come from that range, so a port we freed by killing our server could otherwise be taken by another
 * process's outgoing connection, or by a client reconnecting to it (TCP self-connect), and our restarted
 * server could not bind it again.
 */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const low = 10_000;
  const high = Math.max(low + 1000, ephemeralLow - 1);
  for (let i = 0; i < 50; i++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free TCP port found in ${low}-${high}`);
}

function ephemeralRange(): [number, number] {
  try {
    const [a, b] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(a) && Number.isInteger(b) && a! > 11_000) return [a!, b!];
  } catch {
    // not Linux: use the IANA dynamic range's lower bound
  }
  return [49152, 65535];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

function hasRedisBinary(bin: string): boolean {
  const r = spawnSync(bin, ['--version'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

/** Waits until the redis-server we spawned answers; it must be that process (not another on the port). */
async function waitReady(url: string, child: ChildProcess, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server for ${url} exited during start (${child.exitCode ?? child.signalCode}): ${await logTail(logFile)}`);
    }
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
    client.on('error', () => {});
    let pid: string | undefined;
    try {
      await client.connect();
      pid = /process_id:(\d+)/.exec(await client.info('server'))?.[1];
    } catch {
      // not listening yet
    } finally {
      client.disconnect();
    }
    if (pid === String(child.pid)) return;
    if (pid !== undefined) throw new Error(`port of ${url} is answered by another redis-server (pid ${pid}, ours ${child.pid})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server at ${url} did not become ready in ${timeoutMs} ms: ${await logTail(logFile)}`);
}

async function logTail(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(-5).join(' | ');
  } catch {
    return '(no log)';
  }
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
    await waitReady(url, child, 10_000, resolve(absDir, 'redis.log'));
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
