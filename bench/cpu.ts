// `npm run bench -- --only cpu [--cpu-kind container]`: where the CPU of one scan goes. Saturates the
// production-shaped cluster with parcel scans (or containers at 6 mm/px) and reads each process's CPU time (utime + stime from /proc) before and after: API,
// worker, PostgreSQL (every backend) and Redis, in core-milliseconds per scan. With `--cpu-prof DIR` the
// API and worker processes also write V8 CPU profiles there (open them in Chrome DevTools).
import { readdirSync, readFileSync } from 'node:fs';
import { startCluster } from './cluster.js';
import { round } from './common.js';
import { saturate, scanPool } from './load.js';
import type { SynthKind } from '../models/synth/index.js';

const TICK_MS = 10; // USER_HZ is 100 on Linux

function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS; // fields 14 and 15 of stat
  } catch {
    return 0;
  }
}

/** CPU ms of each thread of a process, summed by thread name (main JS thread, libuv pool, sharp, ORT). */
function threadsCpuMs(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[\d]+$/, '');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name] = (out[name] ?? 0) + (Number(f[11]) + Number(f[12])) * TICK_MS;
    } catch {
      // thread gone
    }
  }
  return out;
}

function pidsNamed(pattern: RegExp): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (pattern.test(readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' '))) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

export async function cpuBench(opts: { scans?: number; cpuProfDir?: string; kind?: SynthKind } = {}) {
  const kind = opts.kind ?? 'parcel';
  const n = opts.scans ?? (kind === 'parcel' ? 240 : 40);
  const env: Record<string, string> = { WORKER_CONCURRENCY: '8' };
  const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  const cluster = await startCluster({ workers: 1, env, nodeArgs });
  try {
    const pool = await scanPool(kind, 16);
    await saturate(cluster, pool, 10, 4, 'cpu-warm');
    const groups = {
      api: () => [cluster.api.pid!],
      worker: () => cluster.workers.map((w) => w.pid!),
      postgres: () => pidsNamed(/^postgres/),
      redis: () => pidsNamed(/^redis-server/),
      bench: () => [process.pid],
    };
    const sample = () => Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, pids().reduce((s, p) => s + cpuMsOf(p), 0)]));
    const before = sample();
    const threadsBefore = { api: threadsCpuMs(cluster.api.pid!), worker: threadsCpuMs(cluster.workers[0]!.pid!) };
    const sat = await saturate(cluster, pool, n, 16, 'cpu-sat');
    const after = sample();
    const threadsAfter = { api: threadsCpuMs(cluster.api.pid!), worker: threadsCpuMs(cluster.workers[0]!.pid!) };
    const byThread = (k: 'api' | 'worker') =>
      Object.fromEntries(
        Object.entries(threadsAfter[k])
          .map(([name, ms]) => [name, round((ms - (threadsBefore[k][name] ?? 0)) / n, 1)] as const)
          .filter(([, v]) => v >= 0.1)
          .sort((a, b) => b[1] - a[1]),
      );
    const perScan = Object.fromEntries(Object.keys(groups).map((k) => [k, round((after[k]! - before[k]!) / n, 1)]));
    const total = round(Object.entries(perScan).filter(([k]) => k !== 'bench').reduce((s, [, v]) => s + v, 0), 1);
    return { kind, scans: n, scansPerSecond: round(sat.scansPerSecond, 2), coreMsPerScan: { ...perScan, totalWithoutBench: total }, coreMsPerScanByThread: { api: byThread('api'), worker: byThread('worker') } };
  } finally {
    await cluster.close();
  }
}
