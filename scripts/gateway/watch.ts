// The gateway loop: list the folder, push every complete scan the journal does not hold yet through the
// typed API client, journal the answer (fsynced), retry what failed for a reason that may pass (network,
// 5xx, 429) with exponential backoff, and report progress. Scans are pushed one at a time, in name order.
import { openAsBlob } from 'node:fs';
import { basename, join } from 'node:path';
import { createTidewatchClient } from '../../api/client/index.js';
import { Journal } from './journal.js';
import { listScans, type FolderScan } from './folder.js';

export interface WatchOptions {
  dir: string;
  api: string;
  key: string;
  /** Journal file; default `<dir>/.tidewatch-journal.jsonl`. */
  journalPath?: string;
  /** Folder poll interval. */
  intervalMs?: number;
  /** Push what is there, then return (no watching). */
  once?: boolean;
  /** First retry delay; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Progress lines; default console.log. */
  report?: (line: string) => void;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export class GatewayAuthError extends Error {}

type PushOutcome = { kind: 'stored'; status: number; scanId: string; state: string } | { kind: 'rejected'; status: number; code: string; message: string } | { kind: 'retry'; why: string };

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

async function pushOnce(client: ReturnType<typeof createTidewatchClient>, scan: FolderScan): Promise<PushOutcome> {
  const form = new FormData();
  form.append('metadata', JSON.stringify(scan.metadata));
  for (const [role, path] of Object.entries(scan.images)) form.append(role, await openAsBlob(path), basename(path));
  let res;
  try {
    res = await client.POST('/v1/scans', { body: form });
  } catch (err) {
    // fetch reports a refused connection as TypeError('fetch failed') with the reason in `cause`.
    const cause = (err as Error).cause as Error | undefined;
    return { kind: 'retry', why: cause?.message ?? (err as Error).message };
  }
  const status = res.response.status;
  if (res.data) return { kind: 'stored', status, scanId: res.data.scanId, state: res.data.status };
  const error = (res.error ?? {}) as { code?: string; message?: string };
  if (status === 401 || status === 403) throw new GatewayAuthError(`the API refused the key (${status} ${error.code ?? ''}): ${error.message ?? ''}`);
  if (status >= 500 || status === 429 || status === 408) return { kind: 'retry', why: `${status} ${error.code ?? ''}`.trim() };
  return { kind: 'rejected', status, code: error.code ?? `HTTP_${status}`, message: error.message ?? '' };
}

/** Pushes one scan until the API answers for good; journals the answer. Returns false if aborted. */
async function pushScan(opts: Required<Pick<WatchOptions, 'backoffMs' | 'maxBackoffMs' | 'report'>> & Pick<WatchOptions, 'signal'>, client: ReturnType<typeof createTidewatchClient>, journal: Journal, scan: FolderScan): Promise<'stored' | 'rejected' | 'aborted'> {
  let delay = opts.backoffMs;
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) return 'aborted';
    const outcome = await pushOnce(client, scan);
    const at = new Date().toISOString();
    const scanId = String(scan.metadata.scanId);
    if (outcome.kind === 'stored') {
      await journal.append({ name: scan.name, scanId, contentHash: scan.contentHash, outcome: 'stored', status: outcome.status, at });
      opts.report(`pushed ${scan.name} → ${outcome.scanId} (${outcome.status === 202 ? 'new' : 'already stored'}, ${outcome.state})`);
      return 'stored';
    }
    if (outcome.kind === 'rejected') {
      await journal.append({ name: scan.name, scanId, contentHash: scan.contentHash, outcome: 'rejected', status: outcome.status, code: outcome.code, message: outcome.message, at });
      opts.report(`rejected ${scan.name}: ${outcome.status} ${outcome.code} ${outcome.message}`);
      return 'rejected';
    }
    // Full jitter keeps many gateways from retrying in step after an outage.
    const wait = Math.round(delay / 2 + Math.random() * (delay / 2));
    opts.report(`retry ${scan.name} (attempt ${attempt} failed: ${outcome.why}) in ${wait} ms`);
    await sleep(wait, opts.signal);
    delay = Math.min(delay * 2, opts.maxBackoffMs);
  }
}

/** Runs until aborted (or, with `once`, until every complete scan has an answer). Throws GatewayAuthError on 401/403. */
export async function watchFolder(o: WatchOptions): Promise<{ stored: number; rejected: number }> {
  const opts = {
    ...o,
    intervalMs: o.intervalMs ?? 1000,
    backoffMs: o.backoffMs ?? 500,
    maxBackoffMs: o.maxBackoffMs ?? 30_000,
    report: o.report ?? ((line: string) => console.log(line)),
  };
  const journal = await Journal.open(opts.journalPath ?? join(opts.dir, '.tidewatch-journal.jsonl'));
  const client = createTidewatchClient(opts.api, opts.key, opts.fetch);
  const counts = { stored: 0, rejected: 0 };
  const reportedProblems = new Set<string>();
  opts.report(`watching ${opts.dir} → ${opts.api} (journal: ${journal.size} scans already answered)`);
  while (!opts.signal?.aborted) {
    const { scans, problems } = await listScans(opts.dir);
    for (const p of problems) {
      if (!reportedProblems.has(p.problem)) opts.report(`skipped ${p.name}: ${p.problem}`);
      reportedProblems.add(p.problem);
    }
    const pending = scans.filter((s) => !journal.has(s.name, s.contentHash));
    for (const [i, scan] of pending.entries()) {
      const result = await pushScan(opts, client, journal, scan);
      if (result === 'aborted') break;
      counts[result]++;
      opts.report(`progress: ${i + 1}/${pending.length} this pass; ${counts.stored} stored, ${counts.rejected} rejected since start; journal ${journal.size}`);
    }
    if (opts.once) break;
    await sleep(opts.intervalMs, opts.signal);
  }
  return counts;
}
