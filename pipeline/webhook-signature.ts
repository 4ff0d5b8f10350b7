// HMAC-SHA256 signatures of outbound webhooks: `X-Tidewatch-Signature: t=<unix seconds>,v1=<hex>` over
// "<t>.<body>". Receivers verify with the shared secret and refuse timestamps outside the replay window.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-tidewatch-signature';
export const REPLAY_WINDOW_S = 300;

export function signWebhook(secret: string, body: string, nowS: number = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${nowS}.${body}`).digest('hex');
  return `t=${nowS},v1=${mac}`;
}

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: 'malformed' | 'expired' | 'mismatch' };

export function verifyWebhook(secret: string, header: string | undefined, body: string, nowS: number = Math.floor(Date.now() / 1000), windowS = REPLAY_WINDOW_S): SignatureCheck {
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return { ok: false, reason: 'malformed' };
  const t = Number(m[1]);
  if (Math.abs(nowS - t) > windowS) return { ok: false, reason: 'expired' };
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'), 'hex');
  const given = Buffer.from(m[2]!, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) ? { ok: true, timestamp: t } : { ok: false, reason: 'mismatch' };
}
