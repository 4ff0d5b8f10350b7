// A model runtime over only some of the committed models (a temporary registry holding their cards and
// .onnx files), so a test does not load every model in models/registry.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createModelRuntime, type RuntimeOptions } from '../../models/runtime/index.js';
import type { ModelRuntime } from '../../models/runtime/types.js';

export interface TestRuntime {
  runtime: ModelRuntime;
  /** Closes the runtime and removes the temporary registry. */
  close(): Promise<void>;
}

/** A hand-set lattice verifier that reads the deep plane (models/training/make_fixtures.py), as `extra` for committedModels. */
export const TINY_DEEP_VERIFIER = ['test/fixtures/models/tiny-deep/tiny-verify-deep.card.json', 'test/fixtures/models/tiny-deep/tiny-verify-deep.onnx'] as const;

/**
 * `editCard`: changes a copied card (its JSON, by model name) before the runtime loads it. `extra`: further model
 * files (card and .onnx paths, e.g. TINY_DEEP_VERIFIER) copied into the registry beside the committed ones.
 */
export async function committedModels(names: readonly string[], options: Omit<RuntimeOptions, 'registryDir'> = {}, editCard?: (name: string, card: Record<string, unknown>) => void, extra: readonly string[] = []): Promise<TestRuntime> {
  const dir = await mkdtemp(join(tmpdir(), 'tw-models-'));
  try {
    for (const name of names) for (const f of [`${name}.card.json`, `${name}.onnx`]) await copyFile(join('models/registry', f), join(dir, f));
    for (const path of extra) await copyFile(path, join(dir, basename(path)));
    if (editCard) {
      for (const name of names) {
        const card = JSON.parse(await readFile(join(dir, `${name}.card.json`), 'utf8')) as Record<string, unknown>;
        editCard(name, card);
        await writeFile(join(dir, `${name}.card.json`), JSON.stringify(card));
      }
    }
    const runtime = await createModelRuntime({ registryDir: dir, ...options });
    return {
      runtime,
      close: async () => {
        await runtime.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
