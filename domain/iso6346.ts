// ISO 6346 container numbers: owner code (3 letters), category (U/J/Z), serial (6 digits), check digit.
// Pure: used by ingest, declarations and the gate.

export type ContainerNoCheck =
  | { ok: true; containerNo: string }
  | { ok: false; reason: 'FORMAT' | 'CHECK_DIGIT'; expectedCheckDigit?: number; message: string };

const PATTERN = /^[A-Z]{3}[UJZ][0-9]{6}[0-9]$/;

// Letter values start at A=10 and skip multiples of 11 (11, 22, 33), as the standard prescribes.
function letterValue(ch: string): number {
  let value = 10;
  for (let c = 'A'.charCodeAt(0); c <= 'Z'.charCodeAt(0); c++) {
    if (value % 11 === 0) value++;
    if (String.fromCharCode(c) === ch) return value;
    value++;
  }
  throw new Error(`not a letter: ${ch}`);
}

/** Check digit of the first ten characters (owner, category, serial); 10 maps to 0. */
export function iso6346CheckDigit(first10: string): number {
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    const ch = first10[i]!;
    const v = /[0-9]/.test(ch) ? Number(ch) : letterValue(ch);
    sum += v * 2 ** i;
  }
  return (sum % 11) % 10;
}

/** Normalises (upper case, spaces and dashes removed) and validates a container number. */
export function checkContainerNo(input: string): ContainerNoCheck {
  const containerNo = input.toUpperCase().replace(/[\s-]/g, '');
  if (!PATTERN.test(containerNo)) {
    return {
      ok: false,
      reason: 'FORMAT',
      message: 'container number must be 3 letters, U/J/Z, 6 digits and a check digit (ISO 6346)',
    };
  }
  const expected = iso6346CheckDigit(containerNo.slice(0, 10));
  if (Number(containerNo[10]) !== expected) {
    return {
      ok: false,
      reason: 'CHECK_DIGIT',
      expectedCheckDigit: expected,
      message: `check digit of ${containerNo} should be ${expected} (ISO 6346)`,
    };
  }
  return { ok: true, containerNo };
}
