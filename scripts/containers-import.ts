// `npm run cli -- containers import <file.csv> [--dry-run]`: tare weights into the container register from a
// terminal's or an owner's fleet list. CSV with a header row (`,` or `;`, RFC 4180 quoting): `containerNo,tareKg`
// and optionally `source`. Each row is checked as PUT /v1/containers checks it; good rows are stored (one audit
// entry each), every problem is printed as `error <file>:<line> <field> <CODE>: <message>`; exit 1 if any row
// was rejected.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { MAX_TARE_KG } from '../domain/declaration/validate-declaration.js';
import { checkContainerNo } from '../domain/iso6346.js';
import type { Sql } from '../storage/db/sql.js';
import { recordTare } from '../storage/repos/containers.js';
import { parseCsv } from './declarations-import.js';

export interface ContainerRow {
  containerNo: string;
  tareKg: number;
  source?: string;
  line: number;
}

export interface ContainerProblem {
  line: number;
  field: string;
  code: string;
  message: string;
}

/** The rows of a register CSV, each checked; problems name the line and the field. */
export function readContainerCsv(text: string): { rows: ContainerRow[]; problems: ContainerProblem[] } {
  const records = parseCsv(text);
  const rows: ContainerRow[] = [];
  const problems: ContainerProblem[] = [];
  const header = records.shift();
  const col = (name: string) => header?.cells.findIndex((c) => c.trim() === name) ?? -1;
  const [iNo, iTare, iSource] = [col('containerNo'), col('tareKg'), col('source')];
  if (!header || iNo < 0 || iTare < 0) {
    return { rows, problems: [{ line: header?.line ?? 1, field: 'header', code: 'HEADER_INVALID', message: 'the header row must name containerNo and tareKg (source is optional)' }] };
  }
  const seen = new Map<string, number>();
  for (const { line, cells } of records) {
    if (cells.every((c) => c.trim() === '')) continue;
    const no = checkContainerNo(cells[iNo] ?? '');
    const tareText = (cells[iTare] ?? '').trim();
    const tareKg = Number(tareText);
    const before = problems.length;
    if (!no.ok) problems.push({ line, field: 'containerNo', code: 'CONTAINER_NO_INVALID', message: no.message });
    if (tareText === '' || !Number.isFinite(tareKg) || tareKg <= 0 || tareKg > MAX_TARE_KG) {
      problems.push({ line, field: 'tareKg', code: 'WEIGHT_INVALID', message: `tareKg must be a weight in kg above 0 and at most ${MAX_TARE_KG}, got "${tareText}"` });
    }
    if (no.ok && seen.has(no.containerNo)) {
      problems.push({ line, field: 'containerNo', code: 'DUPLICATE_ROW', message: `${no.containerNo} is also on line ${seen.get(no.containerNo)}` });
    }
    if (problems.length > before || !no.ok) continue;
    seen.set(no.containerNo, line);
    const source = iSource >= 0 ? (cells[iSource] ?? '').trim() : '';
    rows.push({ containerNo: no.containerNo, tareKg, ...(source && { source: source.slice(0, 200) }), line });
  }
  return { rows, problems };
}

export async function runContainersImport(db: Sql, args: string[]): Promise<number> {
  const dryRun = args.includes('--dry-run');
  const path = args.find((a) => !a.startsWith('--'));
  if (!path) {
    console.error('usage: npm run cli -- containers import <file.csv> [--dry-run]');
    return 2;
  }
  const { rows, problems } = readContainerCsv(await readFile(path, 'utf8'));
  const file = basename(path);
  for (const p of problems) console.log(`error ${file}:${p.line} ${p.field} ${p.code}: ${p.message}`);
  let created = 0, replaced = 0;
  if (!dryRun) {
    for (const r of rows) {
      const { before } = await recordTare(db, { containerNo: r.containerNo, tareKg: r.tareKg, ...(r.source && { source: r.source }), actor: 'cli-import' });
      if (before) replaced++;
      else created++;
    }
  }
  console.log(dryRun ? `dry run: ${rows.length} rows valid, ${problems.length} problems` : `imported ${created} new, ${replaced} replaced; ${problems.length} problems`);
  return problems.length ? 1 : 0;
}
