// The ObjectStore port: images and renderings live here, never in Redis or the database.
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  key: string;
  size: number;
}

export interface ObjectStore {
  /** Stores the object durably before resolving (fs: fsync + rename; S3: completed PUT). */
  put(key: string, body: Buffer | Readable, opts?: { contentType?: string; size?: number }): Promise<void>;
  get(key: string): Promise<Buffer>;
  getStream(key: string): Promise<Readable>;
  stat(key: string): Promise<ObjectInfo | null>;
  delete(key: string): Promise<void>;
  /** Readiness probe. */
  ping(): Promise<void>;
}

export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`object not found: ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}

const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,511}$/;

/** Keys are made by the system, but a stray `..` must never escape the store's root. */
export function assertValidKey(key: string): void {
  if (!KEY_PATTERN.test(key) || key.split('/').some((part) => part === '..' || part === '.' || part === '')) {
    throw new Error(`invalid object key: ${JSON.stringify(key)}`);
  }
}
