// `npm run cli -- containers import <file.csv>`: a fleet list into the container register. Good rows are
// stored (audited), every bad row is reported by line and field with a stable code, and the exit code says
// whether anything was rejected.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auditRepo } from '../../storage/repos/audit.js';
import { containersRepo } from '../../storage/repos/containers.js';
import { postgresTestDb, type TestDb } from '../helpers/databases.js';
import { containerNo } from '../helpers/review.js';

const run = promisify(execFile);
let t: TestDb;
let dir: string;
beforeAll(async () => {
  t = await postgresTestDb();
  dir = await mkdtemp(join(tmpdir(), 'tw-cli-containers-'));
});
afterAll(async () => {
  await t?.drop();
  await rm(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', 'containers', ...args], { env: { ...process.env, DATABASE_URL: t.url!, LOG_LEVEL: 'silent' } }).then(
    (r) => ({ code: 0, out: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
  );

it('imports good rows, reports each bad one by line and field, exits 1; --dry-run stores nothing', { timeout: 60_000 }, async () => {
  const [a, b, c] = [await containerNo('FLT', 1), await containerNo('FLT', 2), await containerNo('FLT', 3)];
  const wrongDigit = `${c.slice(0, 10)}${(Number(c[10]) + 1) % 10}`;
  const csv = [
    'containerNo;tareKg;source',
    `${a};3750;CSC plate`,
    `${b.toLowerCase()};"2230"`,
    `${wrongDigit};3800;`,
    `${c};0;`,
    `${a};3760;typo`,
    '',
  ].join('\n');
  const file = join(dir, 'fleet.csv');
  await writeFile(file, csv);

  const dry = await cli('import', file, '--dry-run');
  expect(dry.code).toBe(1);
  expect(dry.out).toContain('dry run: 2 rows valid, 3 problems');
  expect(await containersRepo(t.db).get(a)).toBeNull();

  const res = await cli('import', file);
  expect(res.code).toBe(1);
  expect(res.out.split('\n').filter((l) => l.startsWith('error'))).toEqual([
    `error fleet.csv:4 containerNo CONTAINER_NO_INVALID: check digit of ${wrongDigit} should be ${c[10]} (ISO 6346)`,
    'error fleet.csv:5 tareKg WEIGHT_INVALID: tareKg must be a weight in kg above 0 and at most 10000, got "0"',
    `error fleet.csv:6 containerNo DUPLICATE_ROW: ${a} is also on line 2`,
  ]);
  expect(res.out).toContain('imported 2 new, 0 replaced; 3 problems');
  expect(await containersRepo(t.db).get(a)).toMatchObject({ tareKg: 3_750, source: 'CSC plate', updatedBy: 'cli-import' });
  expect(await containersRepo(t.db).get(b)).toMatchObject({ tareKg: 2_230, source: null });
  expect(await containersRepo(t.db).get(c)).toBeNull();
  expect((await auditRepo(t.db).list(`container:${a}`)).map((e) => e.payload.action)).toEqual(['container.tare-set']);

  const header = join(dir, 'no-header.csv');
  await writeFile(header, `${a},3750\n`);
  const bad = await cli('import', header);
  expect(bad.code).toBe(1);
  expect(bad.out).toContain('HEADER_INVALID');
});
