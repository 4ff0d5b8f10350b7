// `npm run test:reliability [-- --from test-results/vitest.json]`: runs (or reads the results of) the fault,
// bad-input and security suites and writes reliability-report.json: faults injected and survived, bad inputs
// answered, scans lost (from the fault tests' own tallies), security checks passed, and npm audit's answer.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const SUITES: Record<'faults' | 'badInput' | 'security', string[]> = {
  faults: ['test/fault/', 'test/e2e/review-holds-outbox.test.ts'],
  badInput: ['test/e2e/bad-input.test.ts', 'test/e2e/declarations.test.ts', 'test/e2e/ingest-to-verdict.test.ts', 'test/e2e/dicom-ingest.test.ts'],
  security: [
    'test/e2e/route-role-matrix.test.ts',
    'test/e2e/security-logs.test.ts',
    'test/e2e/images-signed-tiles.test.ts',
    'test/e2e/review-workflow.test.ts',
    'test/e2e/login-throttle.test.ts',
    'test/integration/login-attempts.test.ts',
    'test/unit/domain-login-lockout.test.ts',
    'test/integration/review-claims-audit.test.ts',
    'test/integration/repositories.contract.test.ts',
  ],
};
const OUTCOMES = 'test-results/reliability-outcomes.jsonl';

interface VitestJson {
  testResults: Array<{ name: string; status: string; assertionResults: Array<{ fullName: string; status: string }> }>;
}

function runSuites(): VitestJson {
  rmSync(OUTCOMES, { force: true });
  const files = Object.values(SUITES).flat();
  spawnSync('npx', ['vitest', 'run', ...files, '--reporter=json', '--outputFile=test-results/reliability-vitest.json'], { stdio: 'inherit' });
  return JSON.parse(readFileSync('test-results/reliability-vitest.json', 'utf8')) as VitestJson;
}

function npmAudit(): Record<string, unknown> {
  const r = spawnSync('npm', ['audit', '--json', '--omit=dev'], { encoding: 'utf8', timeout: 60_000 });
  try {
    const j = JSON.parse(r.stdout) as { metadata?: { vulnerabilities?: Record<string, number> }; message?: string };
    if (j.metadata?.vulnerabilities) return { ran: true, vulnerabilities: j.metadata.vulnerabilities };
    return { ran: false, reason: j.message ?? 'no audit data returned' };
  } catch {
    return { ran: false, reason: (r.stderr || 'npm audit produced no JSON').split('\n').filter((l) => l.includes('audit')).join(' ').slice(0, 300) };
  }
}

const { values } = parseArgs({ options: { from: { type: 'string' }, out: { type: 'string', default: 'reliability-report.json' } } });
const results: VitestJson = values.from ? (JSON.parse(readFileSync(values.from, 'utf8')) as VitestJson) : runSuites();
const rel = (p: string) => p.slice(p.indexOf('test/'));

const sections = Object.fromEntries(
  Object.entries(SUITES).map(([section, prefixes]) => {
    const checks = results.testResults
      .filter((f) => prefixes.some((p) => rel(f.name).startsWith(p)))
      .flatMap((f) => (f.assertionResults.length ? f.assertionResults.map((a) => ({ file: rel(f.name), check: a.fullName, passed: a.status === 'passed' })) : [{ file: rel(f.name), check: '(file failed to run)', passed: false }]));
    return [section, { passed: checks.filter((c) => c.passed).length, failed: checks.filter((c) => !c.passed).length, checks }];
  }),
);

const outcomes = existsSync(OUTCOMES)
  ? readFileSync(OUTCOMES, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { fault: string; accepted: number; withOneVerdict: number; duplicated: number; lost: number })
  : [];
const scans = outcomes.reduce((t, o) => ({ accepted: t.accepted + o.accepted, lost: t.lost + o.lost, duplicated: t.duplicated + o.duplicated }), { accepted: 0, lost: 0, duplicated: 0 });
const audit = npmAudit();
const report = {
  at: new Date().toISOString(),
  faultsInjected: outcomes.map((o) => ({ fault: o.fault, accepted: o.accepted, withOneVerdict: o.withOneVerdict, lost: o.lost, duplicated: o.duplicated })),
  scans: { ...scans, faultTestsRecorded: outcomes.length },
  ...sections,
  npmAudit: audit,
};
writeFileSync(values.out!, JSON.stringify(report, null, 2) + '\n');

const s = sections as Record<string, { passed: number; failed: number }>;
console.log(`## Reliability report (${report.at})`);
console.log(`- faults injected and survived: ${outcomes.length} recorded; fault checks ${s.faults!.passed} passed, ${s.faults!.failed} failed`);
for (const o of outcomes) console.log(`  - ${o.fault}: ${o.accepted} accepted, ${o.withOneVerdict} with exactly one verdict, ${o.lost} lost, ${o.duplicated} duplicated`);
console.log(`- scans lost: ${scans.lost} of ${scans.accepted} accepted under faults (duplicated: ${scans.duplicated})`);
console.log(`- bad inputs: ${s.badInput!.passed} checks passed, ${s.badInput!.failed} failed`);
console.log(`- security: ${s.security!.passed} checks passed, ${s.security!.failed} failed`);
console.log(`- npm audit: ${audit.ran ? JSON.stringify(audit.vulnerabilities) : `not run (${String(audit.reason)})`}`);
console.log(`written: ${values.out}`);
const failed = scans.lost > 0 || scans.duplicated > 0 || Object.values(s).some((x) => x.failed > 0);
process.exit(failed ? 1 : 0);
