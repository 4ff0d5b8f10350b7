// One contract, every ObjectStore adapter: the fs store and the S3 store (against a real s3rver).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsObjectStore } from '../../storage/objects/fs-store.js';
import { ObjectNotFoundError, type ObjectStore } from '../../storage/objects/object-store.js';
import { createS3ObjectStore } from '../../storage/objects/s3-store.js';
import { freePort } from '../../storage/redis-server.js';

interface Adapter {
  name: string;
  open(): Promise<{ store: ObjectStore; close(): Promise<void> }>;
}

const adapters: Adapter[] = [
  {
    name: 'fs',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'tw-objects-'));
      return { store: createFsObjectStore(dir), close: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 's3 (s3rver)',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'tw-s3rver-'));
      const port = await freePort();
      const server = new S3rver({ port, address: '127.0.0.1', silent: true, directory: dir });
      await server.run();
      const store = createS3ObjectStore({ endpoint: `http://127.0.0.1:${port}`, accessKey: 'S3RVER', secretKey: 'S3RVER', bucket: 'tidewatch-test' });
      await store.ensureBucket();
      return {
        store,
        async close() {
          await server.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

describe.each(adapters)('ObjectStore contract: $name', (adapter) => {
  let store: ObjectStore;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ store, close } = await adapter.open());
  });
  afterAll(async () => close?.());

  it('round-trips a buffer and reports its size', async () => {
    const body = Buffer.from('sixteen-bit scan bytes \u0000\u00ff');
    await store.put('images/ab/abc.png', body, { contentType: 'image/png' });
    expect(await store.get('images/ab/abc.png')).toEqual(body);
    expect(await store.stat('images/ab/abc.png')).toEqual({ key: 'images/ab/abc.png', size: body.length });
  });

  it('stores a stream of several MB intact', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const size = chunk.length * 3;
    await store.put('images/big/stream.bin', Readable.from([chunk, chunk, chunk]), { size });
    const back = await store.get('images/big/stream.bin');
    expect(back.length).toBe(size);
    const streamed: Buffer[] = [];
    for await (const c of await store.getStream('images/big/stream.bin')) streamed.push(c as Buffer);
    expect(Buffer.concat(streamed).equals(back)).toBe(true);
  });

  it('overwrites a key with the new bytes', async () => {
    await store.put('renderings/s1.png', Buffer.from('one'));
    await store.put('renderings/s1.png', Buffer.from('two'));
    expect((await store.get('renderings/s1.png')).toString()).toBe('two');
  });

  it('answers ObjectNotFoundError / null for a missing key, and deletes', async () => {
    await expect(store.get('nope/missing.png')).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await store.stat('nope/missing.png')).toBeNull();
    await store.put('tmp/del.bin', Buffer.from('x'));
    await store.delete('tmp/del.bin');
    expect(await store.stat('tmp/del.bin')).toBeNull();
  });

  it('refuses keys that could escape the store', async () => {
    for (const key of ['../etc/passwd', 'a/../../b', '/abs', 'a//b', '']) {
      await expect(store.put(key, Buffer.from('x'))).rejects.toThrow(/invalid object key/);
    }
  });

  it('answers the readiness probe', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
