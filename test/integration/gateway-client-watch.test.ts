// The gateway client against the real stack: every scan in the folder is stored exactly once, through a
// kill -9 and restart, a crash between the API's answer and the journal write, and a flaky network.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTidewatchClient } from '../../api/client/index.js';
import { watchFolder } from '../../scripts/gateway/watch.js';
import { dicomFile } from '../fixtures/dicom.js';
import { dualEnergyPair, png16 } from '../helpers/images.js';
import { pollUntil } from '../helpers/push.js';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
let dir: string;
beforeAll(async () => {
  stack = await startStack({ database: 'pglite', workers: false });
  dir = await mkdtemp(join(tmpdir(), 'tidewatch-gateway-'));
});
afterAll(async () => {
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const journalOf = (folder: string) => join(folder, '.tidewatch-journal.jsonl');
const journalLines = async (folder: string) =>
  (await readFile(journalOf(folder), 'utf8').catch(() => '')).split('\n').filter((l) => l.trim()).flatMap((l) => {
    try {
      return [JSON.parse(l) as { name: string; outcome: string; status: number; code?: string }];
    } catch {
      return [];
    }
  });

/** Writes a scan the way a scanner export should: images first, the sidecar last by rename. */
async function writeScan(folder: string, name: string, i: number) {
  const meta = { scannerId: 'H986-QD-07', modality: 'container-xray', containerNo: 'CSQU3054383', capturedAt: `2026-11-23T08:${String(i % 60).padStart(2, '0')}:00Z` };
  if (i % 5 === 1) {
    const { high, low } = await dualEnergyPair(64, 32, i);
    await writeFile(join(folder, `${name}_high.png`), high);
    await writeFile(join(folder, `${name}_low.png`), low);
  } else if (i % 5 === 2) {
    await writeFile(join(folder, `${name}.dcm`), dicomFile({ width: 40, height: 24, pixel: (x, y) => 20000 + i * 10 + x + y }));
  } else {
    await writeFile(join(folder, `${name}.png`), await png16(48, 24, (x, y) => 30000 + i * 17 + x * y));
  }
  await writeFile(join(folder, `${name}.json.tmp`), JSON.stringify(meta));
  await rename(join(folder, `${name}.json.tmp`), join(folder, `${name}.json`));
}

function startGateway(folder: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'scripts/gateway.ts', 'watch', folder, '--api', stack.url, '--key', stack.key, '--interval', '100'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const stopped = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

async function storedCount(prefix: string): Promise<Map<string, number>> {
  const rows = (await stack.db.db.query<{ scan_id: string }>(`SELECT scan_id FROM scans WHERE scan_id LIKE $1`, [`${prefix}%`])).rows;
  const m = new Map<string, number>();
  for (const r of rows) m.set(r.scan_id, (m.get(r.scan_id) ?? 0) + 1);
  return m;
}

describe('npm run gateway -- watch', () => {
  it('stores every scan exactly once across a kill -9, a lost journal line and scans added later', async () => {
    const folder = join(dir, 'site-a');
    await rm(folder, { recursive: true, force: true });
    await (await import('node:fs/promises')).mkdir(folder);
    const names = Array.from({ length: 10 }, (_, i) => `gw-${String(i).padStart(2, '0')}`);
    for (const [i, n] of names.slice(0, 7).entries()) await writeScan(folder, n, i);

    let gw = startGateway(folder);
    let output = '';
    gw.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    await pollUntil(() => journalLines(folder), (l) => l.length >= 2, 30_000, 20);
    gw.kill('SIGKILL');
    await stopped(gw);
    expect(output).toContain('pushed gw-00');

    // A crash after the API answered but before the journal line reached the disk: drop the last line
    // and leave a torn one. The restart pushes that scan again and the API answers with the stored scan.
    const lines = (await readFile(journalOf(folder), 'utf8')).split('\n').filter(Boolean);
    const lost = JSON.parse(lines.at(-1)!) as { name: string };
    await writeFile(journalOf(folder), `${lines.slice(0, -1).join('\n')}\n{"name":"gw-`);

    gw = startGateway(folder);
    output = '';
    gw.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    for (const [i, n] of names.slice(7).entries()) await writeScan(folder, n, i + 7);
    const journal = await pollUntil(() => journalLines(folder), (l) => new Set(l.map((e) => e.name)).size === names.length, 45_000, 50);
    gw.kill('SIGTERM');
    await stopped(gw);

    expect([...new Set(journal.map((e) => e.name))].sort()).toEqual(names);
    expect(journal.every((e) => e.outcome === 'stored')).toBe(true);
    // The lost scan was pushed again and answered 200 (already stored); no name was journaled twice.
    expect(journal.filter((e) => e.name === lost.name).map((e) => e.status)).toEqual([200]);
    expect(journal.length).toBe(names.length);
    const stored = await storedCount('gw-');
    expect([...stored.keys()].sort()).toEqual(names);
    expect([...stored.values()].every((n) => n === 1)).toBe(true);
    expect(output).toMatch(/progress: \d+\/\d+/);
  });

  it('retries with backoff through network failures and 503s, journals rejections once, and reads results with the typed client', async () => {
    const folder = join(dir, 'site-b');
    await (await import('node:fs/promises')).mkdir(folder, { recursive: true });
    await writeScan(folder, 'flaky-1', 3);
    await writeScan(folder, 'flaky-2', 2);
    // A scan the API refuses for good: a bad check digit.
    await writeFile(join(folder, 'flaky-bad.png'), await png16(16, 16, () => 1000));
    await writeFile(join(folder, 'flaky-bad.json'), JSON.stringify({ scannerId: 'X', modality: 'container-xray', containerNo: 'CSQU3054384', capturedAt: '2026-11-23T08:00:00Z' }));
    let calls = 0;
    const flaky: typeof fetch = async (input, init) => {
      calls++;
      if (calls === 1) throw new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') });
      if (calls === 2) return new Response(JSON.stringify({ code: 'SERVICE_UNAVAILABLE', message: 'down' }), { status: 503, headers: { 'content-type': 'application/json' } });
      return fetch(input, init);
    };
    const report: string[] = [];
    const counts = await watchFolder({ dir: folder, api: stack.url, key: stack.key, once: true, backoffMs: 20, fetch: flaky, report: (l) => report.push(l) });
    expect(counts).toEqual({ stored: 2, rejected: 1 });
    expect(report.filter((l) => l.startsWith('retry '))).toHaveLength(2);
    expect(report.some((l) => l.startsWith('rejected flaky-bad: 400 CONTAINER_NO_INVALID'))).toBe(true);
    // A second pass finds everything journaled and pushes nothing.
    const again = await watchFolder({ dir: folder, api: stack.url, key: stack.key, once: true, report: () => {} });
    expect(again).toEqual({ stored: 0, rejected: 0 });

    const client = createTidewatchClient(stack.url, stack.key);
    const { data, response } = await client.GET('/v1/scans/{scanId}', { params: { path: { scanId: 'flaky-2' } } });
    expect(response.status).toBe(200);
    expect(data?.images.map((i) => i.format)).toEqual(['dicom']);
  });
});
