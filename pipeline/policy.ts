// Loads the risk policy a worker applies: POLICY_FILE if set, else the project's default policy.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parsePolicy } from '../domain/policy/parse-policy.js';
import type { RiskPolicy } from '../domain/policy/policy.js';

export const DEFAULT_POLICY_FILE = fileURLToPath(new URL('../domain/policy/default-policy.json', import.meta.url));

export async function loadPolicy(path: string = DEFAULT_POLICY_FILE): Promise<RiskPolicy> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read risk policy ${path}: ${(err as Error).message}`);
  }
  const parsed = parsePolicy(json);
  if (!parsed.ok) throw new Error(`risk policy ${path} is invalid: ${parsed.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  return parsed.policy;
}
