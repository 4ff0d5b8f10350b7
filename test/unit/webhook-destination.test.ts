// Where a subscription's webhook may go: public addresses, and the networks the operator allows; never a redirect.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destinationGuard, parseCidr, postWebhook } from '../../pipeline/webhook-destination.js';

describe('destinationGuard', () => {
  it('allows public addresses and refuses loopback, private, link-local, CGNAT, multicast and reserved ones, IPv4-mapped too', () => {
    const g = destinationGuard([]);
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) expect(g.allows(a), a).toBe(true);
    for (const a of ['127.0.0.1', '10.0.0.5', '172.20.1.1', '192.168.1.10', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.1.2.3', 'not-an-ip']) {
      expect(g.allows(a), a).toBe(false);
    }
  });
  it('allows the networks the operator names, and only those', () => {
    const g = destinationGuard(['10.20.0.0/16', 'fd12:3456::/32']);
    expect([g.allows('10.20.3.4'), g.allows('::ffff:10.20.3.4'), g.allows('fd12:3456::9')]).toEqual([true, true, true]);
    expect([g.allows('10.21.0.1'), g.allows('127.0.0.1'), g.allows('fd99::1')]).toEqual([false, false, false]);
  });
  it('checks a URL when a subscription is made: a name is resolved, an unresolvable one refused', async () => {
    const g = destinationGuard([]);
    await expect(g.checkUrl('http://localhost:9/hook')).rejects.toMatchObject({ code: 'SUBSCRIPTION_URL_FORBIDDEN' });
    await expect(g.checkUrl('http://[::1]:9/hook')).rejects.toMatchObject({ code: 'SUBSCRIPTION_URL_FORBIDDEN' });
    await expect(g.checkUrl('http://no-such-host.invalid/hook')).rejects.toMatchObject({ code: 'SUBSCRIPTION_URL_UNRESOLVED' });
    await expect(g.checkUrl('https://93.184.215.14/hook')).resolves.toBeUndefined();
  });
  it('parseCidr refuses what is not a network', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    for (const bad of ['10.0.0.0', '10.0.0.0/33', 'example.com/8', '::1/129']) expect(() => parseCidr(bad), bad).toThrow();
  });
});

describe('postWebhook', () => {
  const got: string[] = [];
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => {
      got.push(req.url ?? '');
      req.resume();
      if (req.url === '/moved') res.writeHead(302, { location: '/inner' }).end();
      else res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => server?.close());

  it('answers null for a 2xx, and does not follow a redirect (a 3xx is a failed delivery)', async () => {
    expect(await postWebhook(`http://127.0.0.1:${port}/ok`, {}, '{}', { timeoutMs: 2000 })).toBeNull();
    expect(await postWebhook(`http://127.0.0.1:${port}/moved`, {}, '{}', { timeoutMs: 2000 })).toBe('HTTP 302');
    expect(got).toEqual(['/ok', '/moved']);
  });
  it('with a guard, never connects to a refused address, whether the URL names it or a host resolves to it', async () => {
    const guard = destinationGuard([]);
    expect(await postWebhook(`http://127.0.0.1:${port}/literal`, {}, '{}', { timeoutMs: 2000, guard })).toMatch(/not a public address/);
    expect(await postWebhook(`http://localhost:${port}/named`, {}, '{}', { timeoutMs: 2000, guard })).toMatch(/not a public address/);
    expect(got).not.toContain('/literal');
    expect(got).not.toContain('/named');
    // the operator's network allowed: delivered
    expect(await postWebhook(`http://localhost:${port}/allowed`, {}, '{}', { timeoutMs: 2000, guard: destinationGuard(['127.0.0.0/8', '::1/128']) })).toBeNull();
    expect(got).toContain('/allowed');
  });
});
