// The reference vectors kNN matching searches, kept in the worker's memory between scans. Before each use
// a one-row fingerprint query (count, newest id, newest removal) tells whether the library of that
// modality and model version changed, so an added or removed reference counts from the next scan on, and
// the vectors are read from the database only when they did change.
import type { Modality } from '../domain/scan.js';
import type { referencesRepo } from '../storage/repos/references.js';

type Refs = Pick<ReturnType<typeof referencesRepo>, 'vectors' | 'vectorsStamp'>;
export type LibraryVectors = Awaited<ReturnType<Refs['vectors']>>;

export interface ReferenceLibrary {
  vectors(modality: Modality, model: string, modelVersion: string): Promise<LibraryVectors>;
  /** How many times the vectors were read from the database (for tests and metrics). */
  readonly loads: number;
}

export function cachedReferenceLibrary(refs: Refs): ReferenceLibrary {
  const cache = new Map<string, { stamp: string; vectors: LibraryVectors }>();
  let loads = 0;
  return {
    async vectors(modality, model, modelVersion) {
      const key = `${modality}\u0000${model}\u0000${modelVersion}`;
      const stamp = await refs.vectorsStamp(modality, model, modelVersion);
      const hit = cache.get(key);
      if (hit && hit.stamp === stamp) return hit.vectors;
      const vectors = await refs.vectors(modality, model, modelVersion);
      loads++;
      // A reference added between the two queries only makes the next stamp differ: it is read then.
      cache.set(key, { stamp, vectors });
      return vectors;
    },
    get loads() {
      return loads;
    },
  };
}
