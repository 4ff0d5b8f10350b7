// Validation of a declaration as received (unknown JSON) into a normalized Declaration, or every error
// found, each naming its field (`lines[2].hsCode`) with a stable code the API answers with.
import { checkContainerNo } from '../iso6346.js';
import { validateHsCode } from '../hs/hs.js';
import {
  CREDIT_LEVELS,
  type CreditLevel,
  type Declaration,
  type DeclarationLine,
  type DeclaredContainer,
} from './declaration.js';

export const DECLARATION_ERROR_CODES = [
  'DECLARATION_INVALID',
  'FIELD_REQUIRED',
  'FIELD_INVALID',
  'SUBJECT_INVALID',
  'CONTAINER_NO_INVALID',
  'CONTAINER_DUPLICATE',
  'SEAL_NO_INVALID',
  'WAYBILL_INVALID',
  'LINES_REQUIRED',
  'HS_CODE_INVALID',
  'HS_CODE_UNKNOWN',
  'QUANTITY_INVALID',
  'UNIT_INVALID',
  'WEIGHT_INVALID',
  'CREDIT_LEVEL_INVALID',
  'DATE_INVALID',
] as const;
export type DeclarationErrorCode = (typeof DECLARATION_ERROR_CODES)[number];

export interface DeclarationError {
  field: string;
  code: DeclarationErrorCode;
  message: string;
}

export type DeclarationCheck = { ok: true; declaration: Declaration } | { ok: false; errors: DeclarationError[] };

const ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
const SEAL_PATTERN = /^[A-Z0-9-]{1,32}$/;
const WAYBILL_PATTERN = /^[A-Z0-9-]{4,40}$/;
/** Heaviest plausible tare (a 45' high-cube reefer is about 5 t); anything above is a typo. */
export const MAX_TARE_KG = 10_000;
const MAX_LINES = 999;

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPositiveNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

class Collector {
  readonly errors: DeclarationError[] = [];
  add(field: string, code: DeclarationErrorCode, message: string): undefined {
    this.errors.push({ field, code, message });
    return undefined;
  }
  /** A required non-empty string, trimmed. */
  text(v: unknown, field: string, max = 500): string | undefined {
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
      return this.add(field, 'FIELD_REQUIRED', `${field} is required`);
    }
    if (typeof v !== 'string' || v.trim().length > max) {
      return this.add(field, 'FIELD_INVALID', `${field} must be text of at most ${max} characters`);
    }
    return v.trim();
  }
}

function validateContainer(v: unknown, field: string, c: Collector): DeclaredContainer | undefined {
  if (!isRecord(v)) return c.add(field, 'FIELD_INVALID', `${field} must be an object with containerNo`);
  let containerNo: string | undefined;
  if (typeof v.containerNo !== 'string') {
    c.add(`${field}.containerNo`, 'CONTAINER_NO_INVALID', `${field}.containerNo is required (ISO 6346)`);
  } else {
    const check = checkContainerNo(v.containerNo);
    if (check.ok) containerNo = check.containerNo;
    else c.add(`${field}.containerNo`, 'CONTAINER_NO_INVALID', check.message);
  }
  let sealNo: string | undefined;
  if (v.sealNo !== undefined && v.sealNo !== null) {
    const s = typeof v.sealNo === 'string' ? v.sealNo.trim().toUpperCase() : '';
    if (SEAL_PATTERN.test(s)) sealNo = s;
    else c.add(`${field}.sealNo`, 'SEAL_NO_INVALID', `${field}.sealNo must be 1–32 letters, digits or dashes (ISO 17712)`);
  }
  let tareKg: number | undefined;
  if (v.tareKg !== undefined && v.tareKg !== null) {
    if (isPositiveNumber(v.tareKg) && v.tareKg <= MAX_TARE_KG) tareKg = v.tareKg;
    else c.add(`${field}.tareKg`, 'WEIGHT_INVALID', `${field}.tareKg must be a weight in kg above 0 and at most ${MAX_TARE_KG}`);
  }
  if (containerNo === undefined) return undefined;
  return { containerNo, ...(sealNo !== undefined && { sealNo }), ...(tareKg !== undefined && { tareKg }) };
}

function validateLine(v: unknown, field: string, c: Collector): DeclarationLine | undefined {
  if (!isRecord(v)) return c.add(field, 'FIELD_INVALID', `${field} must be an object`);
  let hsCode: string | undefined;
  if (typeof v.hsCode !== 'string') c.add(`${field}.hsCode`, 'HS_CODE_INVALID', `${field}.hsCode is required (10 digits)`);
  else {
    const check = validateHsCode(v.hsCode);
    if (check.ok) hsCode = check.hsCode;
    else c.add(`${field}.hsCode`, check.code, check.message);
  }
  const description = c.text(v.description, `${field}.description`);
  const quantity = isPositiveNumber(v.quantity)
    ? v.quantity
    : c.add(`${field}.quantity`, 'QUANTITY_INVALID', `${field}.quantity must be a number above 0`);
  const unit =
    typeof v.unit === 'string' && v.unit.trim() !== '' && v.unit.trim().length <= 16
      ? v.unit.trim()
      : c.add(`${field}.unit`, 'UNIT_INVALID', `${field}.unit is required (e.g. pcs, kg, set)`);
  const grossKg = isPositiveNumber(v.grossKg)
    ? v.grossKg
    : c.add(`${field}.grossKg`, 'WEIGHT_INVALID', `${field}.grossKg must be a weight in kg above 0`);
  if (hsCode === undefined || description === undefined || quantity === undefined || unit === undefined || grossKg === undefined) {
    return undefined;
  }
  return { hsCode, description, quantity, unit, grossKg };
}

/** Validates and normalizes a declaration; every problem is reported, not just the first. */
export function validateDeclaration(input: unknown): DeclarationCheck {
  const c = new Collector();
  if (!isRecord(input)) {
    return { ok: false, errors: [{ field: '', code: 'DECLARATION_INVALID', message: 'a declaration must be a JSON object' }] };
  }

  const declarationId = c.text(input.declarationId, 'declarationId', 64);
  if (declarationId !== undefined && !ID_PATTERN.test(declarationId)) {
    c.add('declarationId', 'FIELD_INVALID', 'declarationId may hold letters, digits and . _ : - only');
  }

  const hasContainers = Array.isArray(input.containers) && input.containers.length > 0;
  const hasWaybills = Array.isArray(input.waybills) && input.waybills.length > 0;
  if (hasContainers === hasWaybills) {
    c.add('containers', 'SUBJECT_INVALID', 'a declaration names either containers or waybills, not both and not neither');
  }
  for (const key of ['containers', 'waybills'] as const) {
    if (input[key] !== undefined && !Array.isArray(input[key])) c.add(key, 'FIELD_INVALID', `${key} must be a list`);
  }

  const containers: DeclaredContainer[] = [];
  if (hasContainers) {
    (input.containers as unknown[]).forEach((v, i) => {
      const container = validateContainer(v, `containers[${i}]`, c);
      if (!container) return;
      if (containers.some((x) => x.containerNo === container.containerNo)) {
        c.add(`containers[${i}].containerNo`, 'CONTAINER_DUPLICATE', `${container.containerNo} is listed twice`);
      } else containers.push(container);
    });
  }

  const waybills: string[] = [];
  if (hasWaybills) {
    (input.waybills as unknown[]).forEach((v, i) => {
      const w = typeof v === 'string' ? v.trim().toUpperCase() : '';
      if (WAYBILL_PATTERN.test(w)) waybills.push(w);
      else c.add(`waybills[${i}]`, 'WAYBILL_INVALID', `waybills[${i}] must be 4–40 letters, digits or dashes`);
    });
  }

  const lines: DeclarationLine[] = [];
  if (!Array.isArray(input.lines)) {
    c.add('lines', 'LINES_REQUIRED', 'lines is required (an empty list declares an empty container)');
  } else if (input.lines.length > MAX_LINES) {
    c.add('lines', 'FIELD_INVALID', `at most ${MAX_LINES} lines`);
  } else {
    if (input.lines.length === 0 && hasWaybills) c.add('lines', 'LINES_REQUIRED', 'a parcel declaration needs at least one line');
    input.lines.forEach((v, i) => {
      const line = validateLine(v, `lines[${i}]`, c);
      if (line) lines.push(line);
    });
  }

  let enterprise: Declaration['enterprise'] | undefined;
  if (!isRecord(input.enterprise)) c.add('enterprise', 'FIELD_REQUIRED', 'enterprise is required ({ id, creditLevel })');
  else {
    const id = c.text(input.enterprise.id, 'enterprise.id', 64);
    const name = input.enterprise.name === undefined ? undefined : c.text(input.enterprise.name, 'enterprise.name', 200);
    const level = input.enterprise.creditLevel;
    const creditLevel = (CREDIT_LEVELS as readonly unknown[]).includes(level)
      ? (level as CreditLevel)
      : c.add('enterprise.creditLevel', 'CREDIT_LEVEL_INVALID', `enterprise.creditLevel must be one of ${CREDIT_LEVELS.join(', ')}`);
    if (id !== undefined && creditLevel !== undefined) enterprise = { id, ...(name !== undefined && { name }), creditLevel };
  }

  let perishable = false;
  if (input.perishable !== undefined) {
    if (typeof input.perishable === 'boolean') perishable = input.perishable;
    else c.add('perishable', 'FIELD_INVALID', 'perishable must be true or false');
  }

  let vesselClosingAt: string | undefined;
  if (input.vesselClosingAt !== undefined && input.vesselClosingAt !== null) {
    vesselClosingAt = parseInstant(input.vesselClosingAt);
    if (vesselClosingAt === undefined) {
      c.add('vesselClosingAt', 'DATE_INVALID', 'vesselClosingAt must be an ISO 8601 date-time with a time zone');
    }
  }

  const port = input.port === undefined ? undefined : c.text(input.port, 'port', 32);

  if (c.errors.length > 0 || declarationId === undefined || enterprise === undefined) {
    return { ok: false, errors: c.errors };
  }
  return {
    ok: true,
    declaration: {
      declarationId,
      containers,
      waybills,
      lines,
      enterprise,
      perishable,
      ...(vesselClosingAt !== undefined && { vesselClosingAt }),
      ...(port !== undefined && { port }),
    },
  };
}

/** An ISO 8601 date-time with an explicit zone (Z or ±hh:mm), normalized to UTC; otherwise undefined. */
function parseInstant(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v)) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
