// `npm run cli -- declarations import <file|folder> [--dry-run]`: declarations from files (CSV, JSON, JSON
// Lines), each validated by the domain validator and stored as PUT /v1/declarations stores it; every
// problem is reported with the file and line (or array index) it came from. Layout: README "Interoperability".
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { validateDeclaration } from '../domain/declaration/validate-declaration.js';
import type { Declaration } from '../domain/declaration/declaration.js';
import type { Sql } from '../storage/db/sql.js';
import { declarationsRepo } from '../storage/repos/declarations.js';

export const CSV_COLUMNS = [
  'declarationId', 'containerNo', 'sealNo', 'tareKg', 'waybill', 'enterpriseId', 'enterpriseName', 'creditLevel',
  'perishable', 'vesselClosingAt', 'port', 'hsCode', 'description', 'quantity', 'unit', 'grossKg',
] as const;
type CsvColumn = (typeof CSV_COLUMNS)[number];
const DECLARATION_COLUMNS: readonly CsvColumn[] = ['enterpriseId', 'enterpriseName', 'creditLevel', 'perishable', 'vesselClosingAt', 'port'];
const LINE_COLUMNS: readonly CsvColumn[] = ['hsCode', 'description', 'quantity', 'unit', 'grossKg'];

/** One declaration read from a file, and how to name where each of its fields came from. */
export interface ImportItem {
  declaration: Record<string, unknown>;
  /** `file:line` or `file[index]` of the declaration as a whole. */
  where: string;
  /** Where a validator field (`lines[1].hsCode`, `containers[0].sealNo`) came from. */
  whereField(field: string): string;
  /** Problems of its rows that the validator cannot see (a CSV value that differs between rows). */
  rowProblems: ImportProblem[];
}

export interface ImportProblem {
  where: string;
  field: string;
  code: string;
  message: string;
}

// --- CSV ------------------------------------------------------------------------------------------

/** RFC 4180 records with the physical line each starts on; quoted fields may hold separators and newlines. */
export function parseCsv(text: string): Array<{ line: number; cells: string[] }> {
  const src = text.replace(/^\uFEFF/, '');
  const firstLine = src.slice(0, src.search(/\r?\n|$/));
  const sep = firstLine.includes(';') && !firstLine.includes(',') ? ';' : ',';
  const records: Array<{ line: number; cells: string[] }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"' && src[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === sep) cells.push(cell), (cell = '');
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      cells.push(cell);
      if (cells.some((c) => c.trim() !== '')) records.push({ line: start, cells });
      cells = [];
      cell = '';
      line++;
      start = line;
    } else cell += ch;
  }
  cells.push(cell);
  if (cells.some((c) => c.trim() !== '')) records.push({ line: start, cells });
  return records;
}

const num = (v: string): number | string => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v);
const BOOLEANS: Record<string, boolean> = { true: true, yes: true, y: true, '1': true, false: false, no: false, n: false, '0': false };

/**
 * One row per goods line; rows sharing a declarationId form one declaration. Declaration-level columns
 * may be repeated or left blank after the first row; containers and waybills are collected over the rows.
 */
export function declarationsFromCsv(file: string, text: string): { items: ImportItem[]; problems: ImportProblem[] } {
  const records = parseCsv(text);
  const problems: ImportProblem[] = [];
  const header = records.shift();
  if (!header) return { items: [], problems: [{ where: file, field: '', code: 'FILE_EMPTY', message: 'the CSV file has no header row' }] };
  const columns = header.cells.map((c) => c.trim());
  const unknown = columns.filter((c) => !(CSV_COLUMNS as readonly string[]).includes(c));
  if (unknown.length || !columns.includes('declarationId')) {
    const message = unknown.length ? `unknown column(s) ${unknown.join(', ')}` : 'the declarationId column is required';
    return { items: [], problems: [{ where: `${file}:${header.line}`, field: '', code: 'CSV_HEADER_INVALID', message: `${message}; columns are ${CSV_COLUMNS.join(', ')}` }] };
  }
  type Group = { first: number; problems: ImportProblem[]; decl: Record<string, string>; containers: Map<string, { value: Record<string, unknown>; line: number }>; waybills: Map<string, number>; lines: Array<{ value: Record<string, unknown>; line: number }> };
  const groups = new Map<string, Group>();
  for (const r of records) {
    const row = Object.fromEntries(columns.map((c, i) => [c, (r.cells[i] ?? '').trim()])) as Partial<Record<CsvColumn, string>>;
    const where = `${file}:${r.line}`;
    if (r.cells.length > columns.length && r.cells.slice(columns.length).some((c) => c.trim())) {
      problems.push({ where, field: '', code: 'CSV_ROW_INVALID', message: `${r.cells.length} cells for ${columns.length} columns` });
      continue;
    }
    const id = row.declarationId ?? '';
    if (!id) {
      problems.push({ where, field: 'declarationId', code: 'FIELD_REQUIRED', message: 'declarationId is required on every row' });
      continue;
    }
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { first: r.line, problems: [], decl: {}, containers: new Map(), waybills: new Map(), lines: [] }));
    for (const c of DECLARATION_COLUMNS) {
      const v = row[c];
      if (!v) continue;
      if (g.decl[c] !== undefined && g.decl[c] !== v) {
        g.problems.push({ where, field: c, code: 'FIELD_CONFLICT', message: `${c} is ${JSON.stringify(v)} here but ${JSON.stringify(g.decl[c])} on an earlier row of ${id}` });
      } else g.decl[c] = v;
    }
    if (row.containerNo && !g.containers.has(row.containerNo.toUpperCase())) {
      g.containers.set(row.containerNo.toUpperCase(), {
        line: r.line,
        value: { containerNo: row.containerNo, ...(row.sealNo && { sealNo: row.sealNo }), ...(row.tareKg && { tareKg: num(row.tareKg) }) },
      });
    }
    if (row.waybill && !g.waybills.has(row.waybill)) g.waybills.set(row.waybill, r.line);
    if (LINE_COLUMNS.some((c) => row[c])) {
      g.lines.push({
        line: r.line,
        value: { hsCode: row.hsCode ?? '', description: row.description ?? '', quantity: num(row.quantity ?? ''), unit: row.unit ?? '', grossKg: num(row.grossKg ?? '') },
      });
    }
  }
  const items = [...groups.entries()].map(([declarationId, g]): ImportItem => {
    const d = g.decl;
    const perishable = d.perishable === undefined ? undefined : (BOOLEANS[d.perishable.toLowerCase()] ?? d.perishable);
    const declaration: Record<string, unknown> = {
      declarationId,
      ...(g.containers.size && { containers: [...g.containers.values()].map((c) => c.value) }),
      ...(g.waybills.size && { waybills: [...g.waybills.keys()] }),
      lines: g.lines.map((l) => l.value),
      enterprise: { id: d.enterpriseId, ...(d.enterpriseName && { name: d.enterpriseName }), creditLevel: d.creditLevel },
      ...(perishable !== undefined && { perishable }),
      ...(d.vesselClosingAt && { vesselClosingAt: d.vesselClosingAt }),
      ...(d.port && { port: d.port }),
    };
    const containerLines = [...g.containers.values()].map((c) => c.line);
    const waybillLines = [...g.waybills.values()];
    return {
      declaration,
      rowProblems: g.problems,
      where: `${file}:${g.first}`,
      whereField(field) {
        const m = /^(lines|containers|waybills)\[(\d+)\]/.exec(field);
        const line = m && (m[1] === 'lines' ? g.lines[Number(m[2])]?.line : m[1] === 'containers' ? containerLines[Number(m[2])] : waybillLines[Number(m[2])]);
        return `${file}:${line ?? g.first}`;
      },
    };
  });
  return { items, problems };
}

// --- JSON -----------------------------------------------------------------------------------------

/** A declaration object, an array of them, `{ "declarations": [...] }`, or JSON Lines (one per line). */
export function declarationsFromJson(file: string, text: string, jsonLines: boolean): { items: ImportItem[]; problems: ImportProblem[] } {
  const items: ImportItem[] = [];
  const problems: ImportProblem[] = [];
  const item = (declaration: unknown, where: string) => {
    if (typeof declaration !== 'object' || declaration === null || Array.isArray(declaration)) {
      problems.push({ where, field: '', code: 'DECLARATION_INVALID', message: 'a declaration must be a JSON object' });
    } else items.push({ declaration: declaration as Record<string, unknown>, where, whereField: () => where, rowProblems: [] });
  };
  if (jsonLines) {
    text.split(/\r?\n/).forEach((line, i) => {
      if (!line.trim()) return;
      try {
        item(JSON.parse(line), `${file}:${i + 1}`);
      } catch (err) {
        problems.push({ where: `${file}:${i + 1}`, field: '', code: 'JSON_INVALID', message: (err as Error).message });
      }
    });
    return { items, problems };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    return { items, problems: [{ where: file, field: '', code: 'JSON_INVALID', message: (err as Error).message }] };
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { declarations?: unknown })?.declarations;
  if (Array.isArray(list)) list.forEach((d, i) => item(d, `${file}[${i}]`));
  else item(parsed, file);
  return { items, problems };
}

// --- import ---------------------------------------------------------------------------------------

export const IMPORT_EXTENSIONS = ['.csv', '.json', '.jsonl', '.ndjson'];

export function declarationsFromFile(file: string, text: string) {
  const ext = extname(file).toLowerCase();
  return ext === '.csv' ? declarationsFromCsv(file, text) : declarationsFromJson(file, text, ext === '.jsonl' || ext === '.ndjson');
}

export type StoreDeclaration = (d: Declaration) => Promise<{ version: number; created: boolean; linkedScans: string[] }>;

export interface ImportReport {
  imported: Array<{ declarationId: string; where: string; version: number; created: boolean; linkedScans: string[] }>;
  problems: ImportProblem[];
  /** Declarations not stored because of a problem. */
  rejected: number;
}

/** Reads every file (a folder: its .csv/.json/.jsonl/.ndjson files in name order), validates, stores each good declaration. */
export async function importDeclarations(path: string, store: StoreDeclaration | null): Promise<ImportReport> {
  const files = (await stat(path)).isDirectory()
    ? (await readdir(path)).filter((f) => IMPORT_EXTENSIONS.includes(extname(f).toLowerCase())).sort().map((f) => join(path, f))
    : [path];
  const report: ImportReport = { imported: [], problems: [], rejected: 0 };
  for (const file of files) {
    const { items, problems } = declarationsFromFile(basename(file), await readFile(file, 'utf8'));
    report.problems.push(...problems);
    for (const it of items) {
      const check = validateDeclaration(it.declaration);
      const found = [...it.rowProblems, ...(check.ok ? [] : check.errors.map((e) => ({ where: it.whereField(e.field), field: e.field, code: e.code, message: e.message })))];
      // Each declaration stands alone: a bad one is reported and skipped, the others are stored.
      if (!check.ok || found.length) {
        report.rejected++;
        report.problems.push(...found);
        continue;
      }
      const stored = store ? await store(check.declaration) : { version: 0, created: false, linkedScans: [] };
      report.imported.push({ declarationId: check.declaration.declarationId, where: it.where, ...stored });
    }
  }
  return report;
}

export function formatReport(r: ImportReport, dryRun: boolean): string[] {
  const out = r.imported.map((d) =>
    dryRun ? `ok ${d.where} ${d.declarationId}: valid` : `ok ${d.where} ${d.declarationId}: stored version ${d.version}${d.linkedScans.length ? `, linked scans ${d.linkedScans.join(', ')}` : ''}`,
  );
  for (const p of r.problems) out.push(`error ${p.where}${p.field ? ` ${p.field}` : ''} ${p.code}: ${p.message}`);
  out.push(`${r.imported.length} declaration(s) ${dryRun ? 'valid' : 'imported'}, ${r.rejected} rejected, ${r.problems.length} problem(s)`);
  return out;
}

/** The CLI command: exit 0 when everything was imported, 1 when anything was rejected, 2 on usage. */
export async function runDeclarationsImport(db: Sql, args: string[]): Promise<number> {
  const dryRun = args.includes('--dry-run');
  const path = args.find((a) => !a.startsWith('--'));
  if (!path) {
    console.error('usage: npm run cli -- declarations import <file|folder> [--dry-run]');
    return 2;
  }
  const repo = declarationsRepo(db);
  const store: StoreDeclaration = async (d) => {
    const { stored, created, scanIds } = await repo.upsert(d, 'cli-import');
    return { version: stored.version, created, linkedScans: scanIds };
  };
  const report = await importDeclarations(path, dryRun ? null : store);
  for (const line of formatReport(report, dryRun)) console.log(line);
  return report.problems.length ? 1 : 0;
}
