// Where outbound webhooks may go, and how they are posted. A subscription's URL is chosen by an API client
// (risk control), so it must not reach the services beside Tidewatch: loopback, private, link-local (cloud
// metadata at 169.254.169.254), carrier-grade NAT, multicast and reserved addresses are refused unless the
// operator allows their networks (SUBSCRIPTION_ALLOWED_NETWORKS, e.g. the risk-control LAN). The check is made
// when a subscription is created (a clear 400) and again on every delivery, on the address the connection is
// actually made to (the socket's DNS lookup), so a name that later resolves inward (DNS rebinding) is refused
// too. Deliveries never follow redirects: a 3xx is a failed delivery like any other status.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup as dnsLookupAll } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Networks that are not the public internet (IANA special-purpose registries, the ranges that matter). */
const SPECIAL_V4: Array<[string, number]> = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24],
  ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];
const SPECIAL_V6: Array<[string, number]> = [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
];

export class DestinationRefusedError extends Error {
  constructor(readonly code: 'SUBSCRIPTION_URL_FORBIDDEN' | 'SUBSCRIPTION_URL_UNRESOLVED', message: string) {
    super(message);
    this.name = 'DestinationRefusedError';
  }
}

/** `a.b.c.d/n` or `x:y::/n`; throws on anything else. */
export function parseCidr(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr.trim());
  const family = m ? isIP(m[1]!) : 0;
  const prefix = m ? Number(m[2]) : NaN;
  if (!m || family === 0 || prefix > (family === 4 ? 32 : 128)) throw new Error(`not a network in CIDR form: ${cidr}`);
  return { address: m[1]!, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}

/** A URL's host as an address or a name (an IPv6 literal without its brackets). */
function hostOf(u: URL): string {
  return u.hostname.replace(/^\[(.*)\]$/, '$1');
}

export interface DestinationGuard {
  /** Whether a connection to this IP address is allowed. */
  allows(address: string): boolean;
  /** The refusal of `host` when one of the addresses it stands for is not allowed; null when all are. */
  refusal(host: string, addresses: readonly string[]): DestinationRefusedError | null;
  /** A socket lookup that resolves as usual and fails the connection for a refused address. */
  lookup: LookupFunction;
  /** Resolves the URL's host now; throws DestinationRefusedError when it does not resolve or reaches a refused address. */
  checkUrl(url: string): Promise<void>;
}

/** `allowedNetworks`: CIDRs allowed besides the public internet. */
export function destinationGuard(allowedNetworks: readonly string[]): DestinationGuard {
  const special = new BlockList();
  for (const [a, p] of SPECIAL_V4) special.addSubnet(a, p, 'ipv4');
  for (const [a, p] of SPECIAL_V6) special.addSubnet(a, p, 'ipv6');
  const allowed = new BlockList();
  for (const c of allowedNetworks) {
    const n = parseCidr(c);
    allowed.addSubnet(n.address, n.prefix, n.family);
  }
  const allows = (address: string): boolean => {
    // an IPv4-mapped IPv6 address (::ffff:10.0.0.1) is the IPv4 address it carries
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const a = mapped ?? address;
    const family = isIP(a) === 4 ? 'ipv4' : isIP(a) === 6 ? 'ipv6' : null;
    if (!family) return false;
    return !special.check(a, family) || allowed.check(a, family);
  };
  const refusal = (host: string, addresses: readonly string[]): DestinationRefusedError | null => {
    const bad = addresses.find((a) => !allows(a));
    if (bad === undefined) return null;
    const what = bad === host ? 'loopback, private, link-local or reserved' : 'it resolves to one that is loopback, private, link-local or reserved';
    return new DestinationRefusedError('SUBSCRIPTION_URL_FORBIDDEN', `${host} is not a public address (${what}); SUBSCRIPTION_ALLOWED_NETWORKS may allow its network`);
  };
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const refused = refusal(hostname, addresses.map((x) => x.address));
      if (refused) return callback(refused, '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
  return {
    allows,
    refusal,
    lookup,
    async checkUrl(url: string) {
      let host: string;
      try {
        host = hostOf(new URL(url));
      } catch {
        throw new DestinationRefusedError('SUBSCRIPTION_URL_FORBIDDEN', 'not a URL');
      }
      const addresses = isIP(host) ? [host] : (await dnsLookupAll(host, { all: true }).catch(() => [])).map((x) => x.address);
      if (addresses.length === 0) throw new DestinationRefusedError('SUBSCRIPTION_URL_UNRESOLVED', `${host} does not resolve`);
      const refused = refusal(host, addresses);
      if (refused) throw refused;
    },
  };
}

/**
 * POSTs `body` to `url` (http or https) and answers null for a 2xx, else what went wrong ("HTTP 302", a socket
 * error, "timeout"). With `guard`, the address connected to must be one it allows: an IP literal is checked here
 * (a socket does not look one up), a name by the socket's lookup.
 */
export function postWebhook(url: string, headers: Record<string, string>, body: string, o: { timeoutMs: number; guard?: DestinationGuard }): Promise<string | null> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return resolve('not a URL');
    }
    const request = u.protocol === 'https:' ? httpsRequest : u.protocol === 'http:' ? httpRequest : null;
    if (!request) return resolve(`unsupported protocol ${u.protocol}`);
    const host = hostOf(u);
    const refused = o.guard && isIP(host) ? o.guard.refusal(host, [host]) : null;
    if (refused) return resolve(refused.message);
    const req = request(u, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: o.timeoutMs, ...(o.guard && { lookup: o.guard.lookup }) }, (res: IncomingMessage) => {
      res.resume(); // the answer's body is not read, only drained
      res.on('end', () => resolve(res.statusCode && res.statusCode >= 200 && res.statusCode < 300 ? null : `HTTP ${res.statusCode}`));
      res.on('error', (err) => resolve(err.message));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve(err.message));
    req.end(body);
  });
}
