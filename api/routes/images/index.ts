// Images for the review UI: a signed-URL set for one scan (asked with a reviewer's credential), the
// stored images and their tile pyramid (asked with the signed URL alone, so <img> and plain fetch work).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Sql } from '../../../storage/db/sql.js';
import { ObjectNotFoundError, type ObjectStore } from '../../../storage/objects/object-store.js';
import { scansRepo, type Scan } from '../../../storage/repos/scans.js';
import { ApiError, notFound } from '../../errors.js';
import { errorResponses } from '../../schemas.js';
import { createPyramid, gunzipTile, levelCount, TILE_SIZE, tileExists, type PyramidSource } from './pyramid.js';
import { signedQuery, verifyImageGrant } from './signing.js';

export interface ImageRoutesOptions {
  db: Sql;
  objects: ObjectStore;
  maxImagePixels: number;
  imageUrls: { secret: string; ttlSeconds: number };
  /** Injectable clock for expiry tests. */
  now?: () => number;
}

const ROLES = ['rendering', 'image', 'high', 'low'] as const;
type Role = (typeof ROLES)[number];

const CONTENT_TYPES: Record<string, string> = { png: 'image/png', tiff: 'image/tiff', jpeg: 'image/jpeg', dicom: 'application/dicom' };

/** Where a role's pixels are stored, or null when the scan has no such image (yet). */
function sourceOf(scan: Scan, role: Role): (PyramidSource & { format: string }) | null {
  if (role === 'rendering') {
    if (!scan.renderingKey || !scan.rendering) return null;
    const { width, height, channels } = scan.rendering;
    return { scanId: scan.scanId, role, objectKey: scan.renderingKey, width, height, bitDepth: 8, channels, format: 'png' };
  }
  const img = scan.images.find((i) => i.role === role);
  if (!img) return null;
  return { scanId: scan.scanId, role, objectKey: img.objectKey, width: img.width, height: img.height, bitDepth: img.bitDepth, channels: img.channels, format: img.format };
}

const TileSet = Type.Object({
  url: Type.String({ description: 'template with {z}, {x} and {y}; z = 0 is full resolution' }),
  width: Type.Integer(),
  height: Type.Integer(),
  levels: Type.Integer(),
  bitDepth: Type.Integer({ description: '16: tiles are raw little-endian uint16 (grey); 8: PNG' }),
  channels: Type.Integer(),
});

const ImageUrls = Type.Object({
  expiresAt: Type.String(),
  rendering: Type.String(),
  image: Type.Optional(Type.String()),
  high: Type.Optional(Type.String()),
  low: Type.Optional(Type.String()),
  tiles: Type.Object({
    tileSize: Type.Integer(),
    levels: Type.Integer(),
    url: Type.String({ description: 'tiles of the best source for display: 16-bit high (or image) when there is one, else the rendering' }),
    role: Type.String(),
    byRole: Type.Record(Type.String(), TileSet),
  }),
});

const Signed = Type.Object({ exp: Type.Optional(Type.String({ maxLength: 16 })), sig: Type.Optional(Type.String({ maxLength: 64 })) });
const ImageParams = Type.Object({ scanId: Type.String({ maxLength: 128 }), role: Type.Union(ROLES.map((r) => Type.Literal(r))) });

const imageRoutes: FastifyPluginAsyncTypebox<ImageRoutesOptions> = async (app, opts) => {
  const scans = scansRepo(opts.db);
  const pyramid = createPyramid(opts.objects, { maxImagePixels: opts.maxImagePixels });
  const now = opts.now ?? (() => Date.now());
  const { secret, ttlSeconds } = opts.imageUrls;

  async function signedSource(params: { scanId: string; role: Role }, query: { exp?: string; sig?: string }) {
    verifyImageGrant(secret, params.scanId, params.role, query.exp, query.sig, now());
    const scan = await scans.get(params.scanId);
    const src = scan && sourceOf(scan, params.role);
    if (!src) throw notFound('IMAGE_NOT_FOUND', `scan ${params.scanId} has no ${params.role} image`);
    // Private: the URL is a grant to one user; no shared cache may keep it past its expiry.
    const maxAge = Math.max(0, Number(query.exp) - Math.floor(now() / 1000));
    return { src, cacheControl: `private, max-age=${maxAge}` };
  }

  app.get(
    '/v1/scans/:scanId/image-urls',
    {
      onRequest: app.requireRole('reviewer', 'supervisor', 'risk-control'),
      schema: {
        summary: "Short-lived signed URLs of a scan's images and tile pyramids, for the review UI",
        tags: ['images'],
        security: [{ bearer: [] }],
        params: Type.Object({ scanId: Type.String({ maxLength: 128 }) }),
        response: { 200: ImageUrls, ...errorResponses },
      },
    },
    async (req) => {
      const scan = await scans.get(req.params.scanId);
      if (!scan) throw notFound('SCAN_NOT_FOUND', `no scan ${req.params.scanId}`);
      if (!scan.renderingKey) throw new ApiError(409, 'IMAGE_NOT_READY', 'the scan has not been rendered yet; retry when its status is preprocessed');
      const exp = Math.floor(now() / 1000) + ttlSeconds;
      const base = `/v1/images/${encodeURIComponent(scan.scanId)}`;
      const urls: Partial<Record<Role, string>> = {};
      const byRole: Record<string, { url: string; width: number; height: number; levels: number; bitDepth: number; channels: number }> = {};
      for (const role of ROLES) {
        const src = sourceOf(scan, role);
        if (!src) continue;
        const q = signedQuery(secret, { scanId: scan.scanId, role, exp });
        urls[role] = `${base}/${role}?${q}`;
        const sixteen = src.bitDepth === 16 && src.channels < 3;
        byRole[role] = {
          url: `${base}/${role}/tiles/{z}/{x}/{y}?${q}`,
          width: src.width,
          height: src.height,
          levels: levelCount(src.width, src.height),
          bitDepth: sixteen ? 16 : 8,
          channels: sixteen ? 1 : Math.min(3, src.channels) === 3 ? 3 : 1,
        };
      }
      const display = (['high', 'image'] as const).find((r) => byRole[r]?.bitDepth === 16) ?? 'rendering';
      const shown = byRole[display]!;
      return {
        expiresAt: new Date(exp * 1000).toISOString(),
        rendering: urls.rendering!,
        ...(urls.image ? { image: urls.image } : {}),
        ...(urls.high ? { high: urls.high } : {}),
        ...(urls.low ? { low: urls.low } : {}),
        tiles: { tileSize: TILE_SIZE, levels: shown.levels, url: shown.url, role: display, byRole },
      };
    },
  );

  app.get(
    '/v1/images/:scanId/:role',
    {
      schema: {
        summary: 'A stored image by signed URL: the rendering (8-bit PNG) or high/low/image as the gateway sent it',
        tags: ['images'],
        params: ImageParams,
        querystring: Signed,
        response: { 200: Type.Unknown(), ...errorResponses },
      },
    },
    async (req, reply) => {
      const { src, cacheControl } = await signedSource(req.params, req.query);
      const stream = await opts.objects.getStream(src.objectKey).catch((err: unknown) => {
        if (err instanceof ObjectNotFoundError) throw notFound('IMAGE_NOT_FOUND', `the ${src.role} image is missing from the store`);
        throw err;
      });
      return reply.header('cache-control', cacheControl).type(CONTENT_TYPES[src.format] ?? 'application/octet-stream').send(stream);
    },
  );

  app.get(
    '/v1/images/:scanId/:role/tiles/:z/:x/:y',
    {
      schema: {
        summary: 'A 256×256 tile of the pyramid by signed URL (z = 0 full resolution); 16-bit grey as raw little-endian uint16',
        description: 'Headers x-tile-width, x-tile-height, x-bit-depth and x-channels describe the tile; edge tiles are smaller.',
        tags: ['images'],
        params: Type.Object({
          scanId: Type.String({ maxLength: 128 }),
          role: ImageParams.properties.role,
          z: Type.Integer({ minimum: 0, maximum: 30 }),
          x: Type.Integer({ minimum: 0 }),
          y: Type.Integer({ minimum: 0 }),
        }),
        querystring: Signed,
        response: { 200: Type.Unknown(), ...errorResponses },
      },
    },
    async (req, reply) => {
      const { src, cacheControl } = await signedSource(req.params, req.query);
      const { z, x, y } = req.params;
      if (!tileExists(src, z, x, y)) throw notFound('TILE_NOT_FOUND', `no tile ${z}/${x}/${y} in a ${src.width}×${src.height} image`);
      const tile = await pyramid.tile(src, z, x, y);
      void reply
        .header('cache-control', cacheControl)
        .header('x-tile-width', String(tile.width))
        .header('x-tile-height', String(tile.height))
        .header('x-bit-depth', String(tile.bitDepth))
        .header('x-channels', String(tile.channels))
        .header('vary', 'accept-encoding')
        .type(tile.contentType);
      if (!tile.gzipped) return reply.send(tile.body);
      if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return reply.header('content-encoding', 'gzip').send(tile.body);
      return reply.send(gunzipTile(tile.body));
    },
  );
};

export default imageRoutes;
