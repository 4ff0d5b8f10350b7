// A model runtime over only some of the committed models (a temporary registry holding their cards and
// .onnx files), so a test does not load every model in models/registry.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModelRuntime, type RuntimeOptions } from '../../models/runtime/index.js';
import type { ModelRuntime } from '../../models/runtime/types.js';

export interface TestRuntime {
  runtime: ModelRuntime;
  /** Closes the runtime and removes the temporary registry. */
  close(): Promise<void>;
}

/** `editCard`: changes a copied card (its JSON, by model name) before the runtime loads it. */
export async function committedModels(names: readonly string[], options: Omit<RuntimeOptions, 'registryDir'> = {}, editCard?: (name: string, card: Record<string, unknown>) => void): Promise<TestRuntime> {
  const dir = await mkdtemp(join(tmpdir(), 'tw-models-'));
  try {
    for (const name of names) for (const f of [`${name}.card.json`, `${name}.onnx`]) await copyFile(join('models/registry', f), join(dir, f));
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
