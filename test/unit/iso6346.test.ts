import { describe, expect, it } from 'vitest';
import { checkContainerNo, iso6346CheckDigit } from '../../domain/iso6346.js';

describe('ISO 6346 container numbers', () => {
  // Published examples: the standard's own CSQU3054383, and numbers painted on real boxes.
  it.each(['CSQU3054383', 'MSKU9070323', 'TGHU8765436', 'MSCU6639870', 'APZU4812090'])('accepts %s', (n) => {
    expect(checkContainerNo(n)).toEqual({ ok: true, containerNo: n });
  });

  it('normalises case, spaces and dashes', () => {
    expect(checkContainerNo('csqu 305438-3')).toEqual({ ok: true, containerNo: 'CSQU3054383' });
  });

  it('rejects a wrong check digit and says which one is expected', () => {
    const r = checkContainerNo('CSQU3054384');
    expect(r).toMatchObject({ ok: false, reason: 'CHECK_DIGIT', expectedCheckDigit: 3 });
  });

  it.each(['', 'CSQ3054383', 'CSQX3054383', 'CSQU305438', 'CSQU30543833', '1SQU3054383'])('rejects the malformed %j', (n) => {
    expect(checkContainerNo(n)).toMatchObject({ ok: false, reason: 'FORMAT' });
  });

  it('maps a remainder of 10 to check digit 0', () => {
    // Search a serial whose sum mod 11 is 10, then check the rule on it.
    let found = false;
    for (let s = 0; s < 1000 && !found; s++) {
      const first10 = `ABCU${String(s).padStart(6, '0')}`;
      let sum = 0;
      const letters: Record<string, number> = { A: 10, B: 12, C: 13, U: 32 };
      for (let i = 0; i < 10; i++) sum += (letters[first10[i]!] ?? Number(first10[i])) * 2 ** i;
      if (sum % 11 === 10) {
        expect(iso6346CheckDigit(first10)).toBe(0);
        found = true;
      }
    }
    expect(found).toBe(true);
  });
});
