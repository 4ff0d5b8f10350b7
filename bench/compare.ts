// `npm run bench -- --only cpu --compare <git ref> [--pairs 3] [--cpu-kind parcel|container] [--cpu-scans N]`: the CPU
// benchmark of this checkout beside the same benchmark of an earlier commit, run in pairs on the same machine in
// alternating order (this, then <ref>; then <ref>, then this; …), so a drift of the machine's speed during the run
// falls on both sides alike. <ref> is checked out in a temporary git worktree that shares this checkout's
// node_modules (so a ref whose dependencies differ is not comparable this way) and runs its own bench/run.ts.
// This machine's rates move by ±10–20 % from run to run: one pair proves little; medians over several do.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { SynthKind } from '../models/synth/index.js';
import { round } from './common.js';
import { cpuBench } from './cpu.js';

const run = promisify(execFile);

/** What one `cpu` run reports (bench/cpu.ts). */
export interface CpuRun {
  scansPerSecond: number;
  coreMsPerScan: Record<string, number>;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Medians per side (scans per second, core-ms per scan for each process group) and this side's median over the
 * other's: a throughput ratio above 1 and core-ms ratios below 1 are improvements.
 */
export function compareRuns(current: readonly CpuRun[], reference: readonly CpuRun[]) {
  const side = (runs: readonly CpuRun[]) => ({
    scansPerSecond: round(median(runs.map((r) => r.scansPerSecond)), 2),
    coreMsPerScan: Object.fromEntries(Object.keys(runs[0]?.coreMsPerScan ?? {}).map((k) => [k, round(median(runs.map((r) => r.coreMsPerScan[k] ?? NaN)), 1)])),
  });
  const a = side(current), b = side(reference);
  return {
    median: { current: a, reference: b },
    ratio: {
      scansPerSecond: round(a.scansPerSecond / b.scansPerSecond, 3),
      coreMsPerScan: Object.fromEntries(Object.keys(a.coreMsPerScan).filter((k) => b.coreMsPerScan[k]).map((k) => [k, round(a.coreMsPerScan[k]! / b.coreMsPerScan[k]!, 3)])),
    },
  };
}

/** The reference side: `npm run bench -- --only cpu …` in its worktree, read back from the file it writes. */
async function referenceRun(dir: string, kind: SynthKind, scans: number | undefined): Promise<CpuRun> {
  const args = ['--import', 'tsx', 'bench/run.ts', '--only', 'cpu', ...(kind === 'container' ? ['--cpu-kind', 'container'] : []), ...(scans === undefined ? [] : ['--cpu-scans', String(scans)])];
  await new Promise<void>((ok, fail) => {
    const p = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    p.once('error', fail);
    p.once('exit', (code) => (code === 0 ? ok() : fail(new Error(`the reference's benchmark exited with ${code}`))));
  });
  return JSON.parse(await readFile(join(dir, 'bench', 'results', kind === 'parcel' ? 'cpu.json' : 'cpu-container.json'), 'utf8')) as CpuRun;
}

export async function compareCpu(opts: { ref: string; pairs: number; kind: SynthKind; scans?: number }) {
  const sha = (await run('git', ['rev-parse', '--verify', `${opts.ref}^{commit}`])).stdout.trim();
  const dir = await mkdtemp(join(tmpdir(), 'tw-bench-ref-'));
  await run('git', ['worktree', 'add', '--detach', dir, sha]);
  try {
    await symlink(resolve('node_modules'), join(dir, 'node_modules'));
    const bench = await readFile(join(dir, 'bench', 'run.ts'), 'utf8').catch(() => '');
    if (!bench.includes("'cpu-kind'")) throw new Error(`${opts.ref} has no cpu benchmark to compare with (bench/run.ts without --cpu-kind)`);
    if (opts.scans !== undefined && !bench.includes("'cpu-scans'")) throw new Error(`${opts.ref} predates --cpu-scans: compare without it (the default counts)`);
    const current: CpuRun[] = [], reference: CpuRun[] = [];
    const here = async () => {
      current.push(await cpuBench({ kind: opts.kind, ...(opts.scans !== undefined && { scans: opts.scans }) }));
      console.log(`cpu compare: this checkout ${JSON.stringify(current.at(-1))}`);
    };
    const there = async () => {
      reference.push(await referenceRun(dir, opts.kind, opts.scans));
      console.log(`cpu compare: ${opts.ref} ${JSON.stringify({ scansPerSecond: reference.at(-1)!.scansPerSecond, coreMsPerScan: reference.at(-1)!.coreMsPerScan })}`);
    };
    for (let i = 0; i < opts.pairs; i++) {
      if (i % 2 === 0) { await here(); await there(); }
      else { await there(); await here(); }
    }
    return {
      kind: opts.kind,
      reference: { ref: opts.ref, commit: sha },
      pairs: opts.pairs,
      ...compareRuns(current, reference),
      runs: { current: current.map(({ scansPerSecond, coreMsPerScan }) => ({ scansPerSecond, coreMsPerScan })), reference: reference.map(({ scansPerSecond, coreMsPerScan }) => ({ scansPerSecond, coreMsPerScan })) },
    };
  } finally {
    await run('git', ['worktree', 'remove', '--force', dir]).catch(() => rm(dir, { recursive: true, force: true }));
  }
}
