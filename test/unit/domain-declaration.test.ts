import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { validateDeclaration, type DeclarationErrorCode } from '../../domain/declaration/validate-declaration.js';
import { isCountableUnit, isDeclaredEmpty, declaredGrossKg } from '../../domain/declaration/declaration.js';
import { hsCodes } from '../../domain/hs/hs.js';
import { containerNo } from './domain-fixtures.js';

const valid = () => ({
  declarationId: 'CN-2026-000123',
  containers: [{ containerNo: containerNo('TWDU', 1), sealNo: 'cn-778899', tareKg: 3800 }],
  lines: [{ hsCode: '4011.10.00.00', description: ' car tyres ', quantity: 800, unit: 'pcs', grossKg: 9600 }],
  enterprise: { id: 'E-9', name: 'Qingdao Tyre Co', creditLevel: 'aeo-advanced' },
  perishable: false,
  vesselClosingAt: '2026-11-24T08:00:00+08:00',
  port: 'CNTAO',
});

function errorsOf(input: unknown): Array<{ field: string; code: string }> {
  const r = validateDeclaration(input);
  return r.ok ? [] : r.errors.map(({ field, code }) => ({ field, code }));
}

describe('validateDeclaration', () => {
  it('normalizes a valid container declaration', () => {
    const r = validateDeclaration(valid());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.declaration).toEqual({
      declarationId: 'CN-2026-000123',
      containers: [{ containerNo: containerNo('TWDU', 1), sealNo: 'CN-778899', tareKg: 3800 }],
      waybills: [],
      lines: [{ hsCode: '4011100000', description: 'car tyres', quantity: 800, unit: 'pcs', grossKg: 9600 }],
      enterprise: { id: 'E-9', name: 'Qingdao Tyre Co', creditLevel: 'aeo-advanced' },
      perishable: false,
      vesselClosingAt: '2026-11-24T00:00:00.000Z',
      port: 'CNTAO',
    });
  });

  it('accepts an empty container declaration (no lines) but not an empty parcel', () => {
    const empty = validateDeclaration({ ...valid(), lines: [] });
    expect(empty.ok && isDeclaredEmpty(empty.declaration)).toBe(true);
    const { containers: _c, ...rest } = valid();
    expect(errorsOf({ ...rest, waybills: ['SF123456'], lines: [] })).toEqual([{ field: 'lines', code: 'LINES_REQUIRED' }]);
  });

  it('lower-cases container numbers and spaces away', () => {
    const r = validateDeclaration({ ...valid(), containers: [{ containerNo: ` ${containerNo('TWDU', 1).toLowerCase()} ` }] });
    expect(r.ok && r.declaration.containers[0]?.containerNo).toBe(containerNo('TWDU', 1));
  });

  const bad = valid();
  const withLine = (over: Record<string, unknown>) => ({ ...bad, lines: [bad.lines[0], { ...bad.lines[0], ...over }] });
  const cases: Array<[string, unknown, string, DeclarationErrorCode]> = [
    ['not an object', 'hello', '', 'DECLARATION_INVALID'],
    ['missing id', { ...bad, declarationId: '' }, 'declarationId', 'FIELD_REQUIRED'],
    ['odd id', { ...bad, declarationId: 'a b' }, 'declarationId', 'FIELD_INVALID'],
    ['both subjects', { ...bad, waybills: ['SF123456'] }, 'containers', 'SUBJECT_INVALID'],
    ['no subject', { ...bad, containers: [] }, 'containers', 'SUBJECT_INVALID'],
    ['check digit', { ...bad, containers: [{ containerNo: 'TWDU0000010' }] }, 'containers[0].containerNo', 'CONTAINER_NO_INVALID'],
    ['format', { ...bad, containers: [{ containerNo: 'TW0000010' }] }, 'containers[0].containerNo', 'CONTAINER_NO_INVALID'],
    ['duplicate', { ...bad, containers: [{ containerNo: containerNo('TWDU', 1) }, { containerNo: containerNo('TWDU', 1) }] }, 'containers[1].containerNo', 'CONTAINER_DUPLICATE'],
    ['seal', { ...bad, containers: [{ containerNo: containerNo('TWDU', 1), sealNo: 'seal #1' }] }, 'containers[0].sealNo', 'SEAL_NO_INVALID'],
    ['tare', { ...bad, containers: [{ containerNo: containerNo('TWDU', 1), tareKg: -5 }] }, 'containers[0].tareKg', 'WEIGHT_INVALID'],
    ['waybill', { ...bad, containers: undefined, waybills: ['x'] }, 'waybills[0]', 'WAYBILL_INVALID'],
    ['no lines', { ...bad, lines: undefined }, 'lines', 'LINES_REQUIRED'],
    ['hs short', withLine({ hsCode: '401110' }), 'lines[1].hsCode', 'HS_CODE_INVALID'],
    ['hs unknown', withLine({ hsCode: '7700000000' }), 'lines[1].hsCode', 'HS_CODE_UNKNOWN'],
    ['hs missing', withLine({ hsCode: undefined }), 'lines[1].hsCode', 'HS_CODE_INVALID'],
    ['quantity 0', withLine({ quantity: 0 }), 'lines[1].quantity', 'QUANTITY_INVALID'],
    ['quantity text', withLine({ quantity: '5' }), 'lines[1].quantity', 'QUANTITY_INVALID'],
    ['quantity NaN', withLine({ quantity: Number.NaN }), 'lines[1].quantity', 'QUANTITY_INVALID'],
    ['unit', withLine({ unit: ' ' }), 'lines[1].unit', 'UNIT_INVALID'],
    ['gross', withLine({ grossKg: -1 }), 'lines[1].grossKg', 'WEIGHT_INVALID'],
    ['gross inf', withLine({ grossKg: Number.POSITIVE_INFINITY }), 'lines[1].grossKg', 'WEIGHT_INVALID'],
    ['description', withLine({ description: '' }), 'lines[1].description', 'FIELD_REQUIRED'],
    ['enterprise', { ...bad, enterprise: undefined }, 'enterprise', 'FIELD_REQUIRED'],
    ['credit', { ...bad, enterprise: { id: 'E', creditLevel: 'gold' } }, 'enterprise.creditLevel', 'CREDIT_LEVEL_INVALID'],
    ['perishable', { ...bad, perishable: 'yes' }, 'perishable', 'FIELD_INVALID'],
    ['closing no zone', { ...bad, vesselClosingAt: '2026-11-24T08:00:00' }, 'vesselClosingAt', 'DATE_INVALID'],
    ['closing bad', { ...bad, vesselClosingAt: '2026-13-40T08:00:00Z' }, 'vesselClosingAt', 'DATE_INVALID'],
  ];
  it.each(cases)('%s → %s %s', (_name, input, field, code) => {
    expect(errorsOf(input)).toContainEqual({ field, code });
  });

  it('reports every error, not only the first', () => {
    const errors = errorsOf({ ...bad, declarationId: '', lines: [{ hsCode: 'x', quantity: -1 }] });
    expect(errors.map((e) => e.code)).toEqual(
      expect.arrayContaining(['FIELD_REQUIRED', 'HS_CODE_INVALID', 'QUANTITY_INVALID', 'UNIT_INVALID', 'WEIGHT_INVALID']),
    );
  });

  it('a normalized declaration validates to itself (idempotent), for generated inputs', () => {
    const lineArb = fc.record({
      hsCode: fc.tuple(fc.constantFrom(...hsCodes(6)), fc.stringMatching(/^[0-9]{4}$/)).map(([a, b]) => a + b),
      description: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== ''),
      quantity: fc.double({ min: 0.001, max: 1e6, noNaN: true }),
      unit: fc.constantFrom('pcs', 'kg', 'set', '件'),
      grossKg: fc.double({ min: 0.001, max: 30_000, noNaN: true }),
    });
    const declArb = fc.record({
      declarationId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
      containers: fc.integer({ min: 0, max: 999_999 }).map((n) => [{ containerNo: containerNo('ABCU', n), tareKg: 2200 }]),
      lines: fc.array(lineArb, { maxLength: 5 }),
      enterprise: fc.record({ id: fc.constant('E-1'), creditLevel: fc.constantFrom('aeo-advanced', 'ordinary', 'dishonest') }),
    });
    fc.assert(
      fc.property(declArb, (input) => {
        const first = validateDeclaration(input);
        if (!first.ok) throw new Error(JSON.stringify(first.errors));
        const second = validateDeclaration(first.declaration);
        return second.ok && JSON.stringify(second.declaration) === JSON.stringify(first.declaration);
      }),
    );
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => typeof validateDeclaration(v).ok === 'boolean'));
  });
});

describe('declaration helpers', () => {
  it('knows countable units and sums gross weight', () => {
    expect(isCountableUnit(' PCS ')).toBe(true);
    expect(isCountableUnit('件')).toBe(true);
    expect(isCountableUnit('kg')).toBe(false);
    const r = validateDeclaration(valid());
    expect(r.ok && declaredGrossKg(r.declaration)).toBe(9600);
  });
});
