// MinIO/S3 adapter of ObjectStore (production), on the `minio` client.
import * as Minio from 'minio';
import type { Readable } from 'node:stream';
import { assertValidKey, ObjectNotFoundError, type ObjectStore } from './object-store.js';

export interface S3Config {
  endpoint: string; // http(s)://host:port
  accessKey: string;
  secretKey: string;
  bucket: string;
  region?: string;
}

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchObject';
}

export function createS3ObjectStore(cfg: S3Config): ObjectStore & { ensureBucket(): Promise<void> } {
  const url = new URL(cfg.endpoint);
  const client = new Minio.Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    useSSL: url.protocol === 'https:',
    accessKey: cfg.accessKey,
    secretKey: cfg.secretKey,
    region: cfg.region ?? 'us-east-1',
    pathStyle: true,
  });
  const bucket = cfg.bucket;

  async function streamToBuffer(stream: Readable): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  return {
    async ensureBucket() {
      if (!(await client.bucketExists(bucket))) await client.makeBucket(bucket, cfg.region ?? 'us-east-1');
    },
    async put(key, body, opts) {
      assertValidKey(key);
      const meta = opts?.contentType ? { 'Content-Type': opts.contentType } : {};
      if (Buffer.isBuffer(body)) await client.putObject(bucket, key, body, body.length, meta);
      else await client.putObject(bucket, key, body, opts?.size, meta);
    },
    async get(key) {
      assertValidKey(key);
      try {
        return await streamToBuffer(await client.getObject(bucket, key));
      } catch (err) {
        throw isNotFound(err) ? new ObjectNotFoundError(key) : err;
      }
    },
    async getStream(key) {
      assertValidKey(key);
      try {
        return await client.getObject(bucket, key);
      } catch (err) {
        throw isNotFound(err) ? new ObjectNotFoundError(key) : err;
      }
    },
    async stat(key) {
      assertValidKey(key);
      try {
        const s = await client.statObject(bucket, key);
        return { key, size: s.size };
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },
    async delete(key) {
      assertValidKey(key);
      await client.removeObject(bucket, key);
    },
    async ping() {
      await client.bucketExists(bucket);
    },
  };
}
