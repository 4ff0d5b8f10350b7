// A policy threshold under a model's own card threshold cannot act (the model emits nothing under its own): the
// worker says so at start, once per model and class, and says nothing for the default policy.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { DEFAULT_POLICY_FILE } from '../../pipeline/policy.js';
import type { ModelCard, ModelRuntime } from '../../models/runtime/types.js';
import { startStack } from '../helpers/stack.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The committed parcel detector's card (knife, gun and ammunition at 0.425), served for both parcel modalities. */
async function parcelRuntime(): Promise<ModelRuntime> {
  const card = JSON.parse(await readFile('models/registry/parcel-item-det.card.json', 'utf8')) as ModelCard;
  return { modelsFor: (m) => (m === 'parcel-ct' || m === 'parcel-xray' ? [card] : []), infer: async () => [], close: async () => {} };
}

const warnings = (lines: string[]) =>
  lines.map((l) => JSON.parse(l) as { msg: string; label?: string; models?: string[]; policyThreshold?: number; modelThreshold?: number; policy?: string }).filter((l) => l.msg.includes('under the model'));

it('warns once for each policy threshold under a model\'s own, and not for the default policy', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tw-policy-floors-'));
  dirs.push(dir);
  const policy = JSON.parse(await readFile(DEFAULT_POLICY_FILE, 'utf8')) as { version: string; security: { modelThreatThresholds: Record<string, Record<string, number>> } };
  policy.version = 'site-2026.12';
  policy.security.modelThreatThresholds['parcel-item-det']!.knife = 0.1;
  const file = join(dir, 'policy.json');
  await writeFile(file, JSON.stringify(policy));

  const lines: string[] = [];
  const stack = await startStack({ runtime: await parcelRuntime(), logLines: lines, env: { LOG_LEVEL: 'warn', POLICY_FILE: file } });
  await stack.close();
  expect(warnings(lines)).toEqual([
    expect.objectContaining({ policy: 'site-2026.12', models: ['parcel-item-det'], label: 'knife', policyThreshold: 0.1, modelThreshold: 0.425 }),
  ]);

  const quiet: string[] = [];
  const defaults = await startStack({ runtime: await parcelRuntime(), logLines: quiet, env: { LOG_LEVEL: 'warn' } });
  await defaults.close();
  expect(warnings(quiet)).toEqual([]);
});
