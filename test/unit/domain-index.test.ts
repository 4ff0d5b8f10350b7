// The public API is reachable from domain/index.ts, and domain/ stays pure: no I/O, clock or environment.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as domain from '../../domain/index.js';

const root = fileURLToPath(new URL('../../domain/', import.meta.url));
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}
/** The one build script that reads the CSV; it is run by hand, never imported. */
const BUILD_SCRIPTS = new Set(['hs/generate-data.ts']);

describe('domain public API', () => {
  it('exports the functions other folders use', () => {
    for (const name of [
      'checkContainerNo', 'decide', 'hsExists', 'hsDescription', 'validateHsCode', 'visualCategoryOf', 'validateDeclaration',
      'parsePolicy', 'defaultPolicy', 'assess', 'assessShadow', 'toVerdict', 'queuePriority', 'compareQueueItems',
      'slaDeadline', 'transitionLock', 'mayLeaveGate', 'appendAuditEntry', 'verifyAuditChain', 'isBlindSample',
    ]) {
      expect(typeof (domain as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(domain.REASON_CODES.security).toContain('THREAT_DETECTED');
  });
});

describe('domain purity', () => {
  const files = sources(root).filter((f) => !BUILD_SCRIPTS.has(relative(root, f)));

  it.each(files.map((f) => [relative(root, f), f]))('%s imports only domain/ and node:crypto, reads no clock or env', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/from\s+'([^']+)'/g)) {
      const spec = m[1]!;
      if (spec.startsWith('node:')) expect(spec).toBe('node:crypto');
      else {
        expect(spec.startsWith('.'), spec).toBe(true);
        expect(join(file, '..', spec).startsWith(root), spec).toBe(true);
      }
    }
    expect(text).not.toMatch(/process\.env|Date\.now\(|new Date\(\)|Math\.random\(/);
  });
});
