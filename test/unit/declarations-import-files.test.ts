// Declaration import from files: CSV (one row per goods line, grouped by declarationId), JSON (one, an
// array, or { declarations }), JSON Lines; every problem names its file and line; good ones are stored.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Declaration } from '../../domain/declaration/declaration.js';
import { declarationsFromCsv, formatReport, importDeclarations, parseCsv, type StoreDeclaration } from '../../scripts/declarations-import.js';

const HEADER = 'declarationId,containerNo,sealNo,tareKg,enterpriseId,enterpriseName,creditLevel,perishable,hsCode,description,quantity,unit,grossKg';

const csv = [
  HEADER,
  'D-1,CSQU3054383,CN1234567,3800,ENT-1,"Qingdao Tyre Export Co., Ltd",aeo-advanced,no,4011100000,"new pneumatic tyres, cars",800,pcs,9000',
  'D-1,,,,,,,,4011200000,bus tyres,20,pcs,1200',
  'D-2,MSKU1234565,,,ENT-2,,ordinary,,4011100000,tyres,10,pcs,100',
  'D-3,CSQU3054383,,,ENT-3,,ordinary,,8888880000,"bad ""code""",5,pcs,50',
  'D-3,,,,,,dishonest,,4011100000,tyres,abc,pcs,50',
  '',
].join('\r\n');

describe('CSV', () => {
  it('parses quoted separators, doubled quotes and quoted newlines, keeping the line each record starts on', () => {
    const rows = parseCsv('a,b\n"x, y","say ""hi"""\n"multi\nline",z\n');
    expect(rows).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['x, y', 'say "hi"'] },
      { line: 3, cells: ['multi\nline', 'z'] },
    ]);
    expect(parseCsv('a;b\n1;2')[1]!.cells).toEqual(['1', '2']);
  });

  it('groups rows into declarations; the first row carries the declaration fields', () => {
    const { items, problems } = declarationsFromCsv('in.csv', csv);
    expect(problems).toEqual([]);
    expect(items.map((i) => [i.declaration.declarationId, i.where])).toEqual([['D-1', 'in.csv:2'], ['D-2', 'in.csv:4'], ['D-3', 'in.csv:5']]);
    expect(items[0]!.declaration).toEqual({
      declarationId: 'D-1',
      containers: [{ containerNo: 'CSQU3054383', sealNo: 'CN1234567', tareKg: 3800 }],
      lines: [
        { hsCode: '4011100000', description: 'new pneumatic tyres, cars', quantity: 800, unit: 'pcs', grossKg: 9000 },
        { hsCode: '4011200000', description: 'bus tyres', quantity: 20, unit: 'pcs', grossKg: 1200 },
      ],
      enterprise: { id: 'ENT-1', name: 'Qingdao Tyre Export Co., Ltd', creditLevel: 'aeo-advanced' },
      perishable: false,
    });
    expect(items[2]!.rowProblems.map((p) => [p.where, p.code])).toEqual([['in.csv:6', 'FIELD_CONFLICT']]);
  });

  it('refuses a header with unknown columns, naming the allowed ones', () => {
    const { problems } = declarationsFromCsv('x.csv', 'declarationId,colour\nD,red\n');
    expect(problems[0]).toMatchObject({ where: 'x.csv:1', code: 'CSV_HEADER_INVALID' });
    expect(problems[0]!.message).toContain('colour');
  });
});

describe('importDeclarations', () => {
  let dir: string;
  const stored: Declaration[] = [];
  const store: StoreDeclaration = async (d) => {
    stored.push(d);
    return { version: 1, created: true, linkedScans: [] };
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tidewatch-import-'));
    await writeFile(join(dir, 'a.csv'), csv);
    const good = (id: string) => ({ declarationId: id, waybills: ['SF1234567890'], lines: [{ hsCode: '8517130000', description: 'phone', quantity: 1, unit: 'pcs', grossKg: 0.4 }], enterprise: { id: 'E', creditLevel: 'ordinary' } });
    await writeFile(join(dir, 'b.json'), JSON.stringify([good('J-1'), { ...good('J-2'), enterprise: { id: 'E', creditLevel: 'gold' } }, 'nope']));
    await writeFile(join(dir, 'c.jsonl'), `${JSON.stringify(good('L-1'))}\n{oops\n\n`);
    await writeFile(join(dir, 'd.json'), JSON.stringify({ declarations: [good('W-1')] }));
    await writeFile(join(dir, 'ignored.txt'), 'not a declaration');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores the good declarations of a folder and reports each bad one at its line', async () => {
    const report = await importDeclarations(dir, store);
    expect(report.imported.map((d) => d.declarationId)).toEqual(['D-1', 'D-2', 'J-1', 'L-1', 'W-1']);
    expect(stored.map((d) => d.declarationId)).toEqual(['D-1', 'D-2', 'J-1', 'L-1', 'W-1']);
    expect(report.problems.map((p) => [p.where, p.field, p.code])).toEqual([
      ['a.csv:6', 'creditLevel', 'FIELD_CONFLICT'],
      ['a.csv:5', 'lines[0].hsCode', 'HS_CODE_UNKNOWN'],
      ['a.csv:6', 'lines[1].quantity', 'QUANTITY_INVALID'],
      // What cannot be read comes first in a file's report, then each declaration's problems.
      ['b.json[2]', '', 'DECLARATION_INVALID'],
      ['b.json[1]', 'enterprise.creditLevel', 'CREDIT_LEVEL_INVALID'],
      ['c.jsonl:2', '', 'JSON_INVALID'],
    ]);
    // D-3 and J-2 are rejected as declarations; the unreadable items never became one.
    expect(report.rejected).toBe(2);
    const lines = formatReport(report, false);
    expect(lines).toContain('error a.csv:5 lines[0].hsCode HS_CODE_UNKNOWN: ' + report.problems.find((p) => p.where === 'a.csv:5')!.message);
    expect(lines.at(-1)).toMatch(/^5 declaration\(s\) imported, \d+ rejected/);
  });

  it('stores nothing on a dry run', async () => {
    const report = await importDeclarations(join(dir, 'd.json'), null);
    expect(report.imported).toMatchObject([{ declarationId: 'W-1', where: 'd.json[0]' }]);
    expect(formatReport(report, true)[0]).toBe('ok d.json[0] W-1: valid');
  });
});
