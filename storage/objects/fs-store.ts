// File-system adapter of ObjectStore (embedded default): ./data/objects/<key>, written atomically.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertValidKey, ObjectNotFoundError, type ObjectStore } from './object-store.js';

export function createFsObjectStore(root: string): ObjectStore {
  const pathOf = (key: string) => {
    assertValidKey(key);
    return join(root, key);
  };
  const notFound = (err: unknown, key: string) =>
    (err as NodeJS.ErrnoException).code === 'ENOENT' ? new ObjectNotFoundError(key) : err;

  return {
    async put(key, body) {
      const target = pathOf(key);
      await mkdir(dirname(target), { recursive: true });
      const tmp = `${target}.${randomUUID()}.tmp`;
      try {
        await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(tmp));
        // fsync before rename: a 202 promises the bytes survive a power cut.
        const fh = await open(tmp, 'r');
        await fh.sync();
        await fh.close();
        await rename(tmp, target);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },
    async get(key) {
      try {
        return await readFile(pathOf(key));
      } catch (err) {
        throw notFound(err, key);
      }
    },
    async getStream(key) {
      const p = pathOf(key);
      try {
        await stat(p);
      } catch (err) {
        throw notFound(err, key);
      }
      return createReadStream(p);
    },
    async stat(key) {
      try {
        const s = await stat(pathOf(key));
        return { key, size: s.size };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async ping() {
      await mkdir(root, { recursive: true });
    },
  };
}
