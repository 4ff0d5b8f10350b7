// HS 2022 lookups: does a chapter/heading/subheading exist, what is it called, and is a 10-digit
// Chinese tariff code plausible (its first 6 digits must be an HS 2022 subheading).
import hs2022 from './nomenclature/hs2022.json' with { type: 'json' };

const DESCRIPTIONS: ReadonlyMap<string, string> = new Map(
  (hs2022 as Array<[string, string]>).map(([code, description]) => [code, description]),
);

export type HsCodeErrorCode = 'HS_CODE_INVALID' | 'HS_CODE_UNKNOWN';

export type HsCodeCheck =
  | { ok: true; hsCode: string; subheading: string; description: string }
  | { ok: false; code: HsCodeErrorCode; message: string };

/** Removes the dots and spaces people write in HS codes ("8471.30.00 00" → "8471300000"). */
export function normalizeHsCode(input: string): string {
  return input.replace(/[\s.]/g, '');
}

/** True when a 2-digit chapter, 4-digit heading or 6-digit subheading exists in HS 2022. */
export function hsExists(code: string): boolean {
  const c = normalizeHsCode(code);
  return (c.length === 2 || c.length === 4 || c.length === 6) && DESCRIPTIONS.has(c);
}

/**
 * The HS 2022 description of a chapter, heading or subheading; an 8- or 10-digit national code gets its
 * subheading's description. Undefined when the code does not exist.
 */
export function hsDescription(code: string): string | undefined {
  const c = normalizeHsCode(code);
  if (/^([0-9]{2}|[0-9]{4}|[0-9]{6})$/.test(c)) return DESCRIPTIONS.get(c);
  if (/^([0-9]{8}|[0-9]{10})$/.test(c)) return DESCRIPTIONS.get(c.slice(0, 6));
  return undefined;
}

/** Validates a 10-digit tariff code as declared in China: 10 digits, the first 6 an HS 2022 subheading. */
export function validateHsCode(input: string): HsCodeCheck {
  const hsCode = normalizeHsCode(input);
  if (!/^[0-9]{10}$/.test(hsCode)) {
    return { ok: false, code: 'HS_CODE_INVALID', message: `HS code "${input}" must be 10 digits` };
  }
  const subheading = hsCode.slice(0, 6);
  const description = DESCRIPTIONS.get(subheading);
  if (description === undefined) {
    return {
      ok: false,
      code: 'HS_CODE_UNKNOWN',
      message: `HS code ${hsCode}: subheading ${subheading} does not exist in HS 2022`,
    };
  }
  return { ok: true, hsCode, subheading, description };
}

/** The 2-digit chapter of a code ("8471300000" → "84"). */
export function hsChapter(code: string): string {
  return normalizeHsCode(code).slice(0, 2);
}

/** Every HS 2022 code of a given length (2, 4 or 6), in nomenclature order. */
export function hsCodes(length: 2 | 4 | 6): string[] {
  return [...DESCRIPTIONS.keys()].filter((c) => c.length === length);
}
