import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hsCodes, hsDescription, hsExists, validateHsCode } from '../../domain/hs/hs.js';
import { hsEntriesFromCsv, parseCsv } from '../../domain/hs/csv.js';
import hs2022 from '../../domain/hs/nomenclature/hs2022.json' with { type: 'json' };

describe('HS 2022 data', () => {
  it('the generated JSON matches the CSV it came from', () => {
    const csv = readFileSync(new URL('../../domain/hs/nomenclature/harmonized-system.csv', import.meta.url), 'utf8');
    expect(hs2022).toEqual(hsEntriesFromCsv(csv));
    expect(hs2022).toHaveLength(6940);
  });

  it('keeps the provenance note beside the data', () => {
    const note = readFileSync(new URL('../../domain/hs/nomenclature/SOURCE.md', import.meta.url), 'utf8');
    expect(note).toMatch(/ODC-PDDL-1\.0/);
    expect(note).toMatch(/UN Comtrade/);
  });

  it('has 97 chapters plus 99, and no chapter 77 (reserved)', () => {
    const chapters = hsCodes(2);
    expect(chapters).toContain('01');
    expect(chapters).toContain('97');
    expect(chapters).not.toContain('77');
    expect(chapters.filter((c) => c <= '97')).toHaveLength(96);
    expect(hsCodes(6)).toHaveLength(5613);
  });

  it('parses quoted CSV fields with commas and doubled quotes', () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi"""\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
    ]);
  });
});

describe('hsExists / hsDescription', () => {
  it.each([
    ['84', true],
    ['8471', true],
    ['847130', true],
    ['8471.30', true],
    ['77', false],
    ['8400', false],
    ['847131', false],
    ['847', false],
    ['8471300000', false],
    ['', false],
  ])('hsExists(%j) = %s', (code, expected) => {
    expect(hsExists(code)).toBe(expected);
  });

  it('describes chapters, headings, subheadings and national codes', () => {
    expect(hsDescription('40')).toBe('Rubber and articles thereof');
    expect(hsDescription('4011')).toBe('New pneumatic tyres, of rubber');
    expect(hsDescription('401120')).toMatch(/buses or lorries/);
    expect(hsDescription('4011200090')).toMatch(/buses or lorries/);
    expect(hsDescription('7712340000')).toBeUndefined();
    expect(hsDescription('abc')).toBeUndefined();
  });
});

describe('validateHsCode', () => {
  it.each([
    ['8471300000', true, undefined],
    ['8471.30.00.00', true, undefined],
    ['0101210010', true, undefined],
    ['847130000', false, 'HS_CODE_INVALID'],
    ['84713000001', false, 'HS_CODE_INVALID'],
    ['84713000ab', false, 'HS_CODE_INVALID'],
    ['7700000000', false, 'HS_CODE_UNKNOWN'],
    ['8471310000', false, 'HS_CODE_UNKNOWN'],
  ])('%s → ok=%s %s', (input, ok, code) => {
    const r = validateHsCode(input);
    expect(r.ok).toBe(ok);
    if (!r.ok) expect(r.code).toBe(code);
  });

  it('accepts every HS 2022 subheading with any 4 national digits', () => {
    const subheadings = hsCodes(6);
    fc.assert(
      fc.property(fc.constantFrom(...subheadings), fc.stringMatching(/^[0-9]{4}$/), (sub, national) => {
        const r = validateHsCode(sub + national);
        return r.ok && r.subheading === sub;
      }),
    );
  });

  it('never throws and answers with a stable code for any string', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = validateHsCode(s);
        return r.ok || r.code === 'HS_CODE_INVALID' || r.code === 'HS_CODE_UNKNOWN';
      }),
    );
  });
});
