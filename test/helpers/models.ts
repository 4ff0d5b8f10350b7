// A model runtime over only some of the committed models (a temporary registry holding their cards and
// .onnx files), so a test does not load every model in models/registry.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModelRuntime, type RuntimeOptions } from '../../models/runtime/index.js';
import type { ModelRuntime } from '../../models/runtime/types.js';

export interface TestRuntime {
  runtime: ModelRuntime;
  /** Closes the runtime and removes the temporary registry. */
  close(): Promise<void>;
}

export async function committedModels(names: readonly string[], options: Omit<RuntimeOptions, 'registryDir'> = {}): Promise<TestRuntime> {
  const dir = await mkdtemp(join(tmpdir(), 'tw-models-'));
  try {
    for (const name of names) for (const f of [`${name}.card.json`, `${name}.onnx`]) await copyFile(join('models/registry', f), join(dir, f));
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
