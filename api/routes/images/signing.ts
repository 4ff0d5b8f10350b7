// Short-lived signed image URLs: the browser loads images and tiles with plain GETs (an <img>, a fetch
// without headers), so the URL itself carries the grant. HMAC-SHA256 over scan, role and expiry; one
// signature covers every tile of that image.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../../errors.js';

export interface ImageGrant {
  scanId: string;
  role: string;
  /** Unix seconds after which the URL answers 403 IMAGE_URL_EXPIRED. */
  exp: number;
}

export function signImageGrant(secret: string, g: ImageGrant): string {
  return createHmac('sha256', secret).update(`tidewatch-image-v1\n${g.scanId}\n${g.role}\n${g.exp}`).digest('base64url');
}

/** The query string a signed URL carries. */
export function signedQuery(secret: string, g: ImageGrant): string {
  return `exp=${g.exp}&sig=${signImageGrant(secret, g)}`;
}

/**
 * Throws 403 IMAGE_URL_INVALID when the signature is absent or does not match (a changed scan, role or
 * expiry), 403 IMAGE_URL_EXPIRED when it matches but the expiry has passed.
 */
export function verifyImageGrant(secret: string, scanId: string, role: string, exp: string | undefined, sig: string | undefined, nowMs: number): void {
  if (!exp || !sig || !/^\d{1,12}$/.test(exp)) throw new ApiError(403, 'IMAGE_URL_INVALID', 'the image URL is not signed; ask /v1/scans/:scanId/image-urls for one');
  const expected = Buffer.from(signImageGrant(secret, { scanId, role, exp: Number(exp) }));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ApiError(403, 'IMAGE_URL_INVALID', 'the image URL signature does not match');
  }
  if (Number(exp) * 1000 < nowMs) throw new ApiError(403, 'IMAGE_URL_EXPIRED', 'the image URL has expired; ask for a new one');
}
