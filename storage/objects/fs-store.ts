// File-system adapter of ObjectStore (embedded default): ./data/objects/<key>, written atomically.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertValidKey, ObjectNotFoundError, type ObjectStore } from './object-store.js';

/** Flushes a file's or a directory's contents to the disk. */
async function fsync(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** `from` and every directory under it down to `to` (`to` inside `from`), outermost first. */
function directoriesFrom(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = to; ; d = dirname(d)) {
    out.unshift(d);
    if (d === from || dirname(d) === d) return out;
  }
}

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
      const dir = dirname(target);
      const created = await mkdir(dir, { recursive: true });
      const tmp = `${target}.${randomUUID()}.tmp`;
      try {
        await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(tmp));
        // A 202 promises the bytes survive a power cut: the file's bytes before the rename, then the directory
        // entries that name it (the rename's, and those of any directory made for it) after.
        await fsync(tmp);
        await rename(tmp, target);
        for (const d of created ? directoriesFrom(dirname(created), dir) : [dir]) await fsync(d);
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
