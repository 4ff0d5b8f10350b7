// The typed API client: openapi-fetch over the types generated from the OpenAPI document
// (`npm run client:gen` → openapi.d.ts). Gateways, the CLI and the tests call the API through it.
import createClient from 'openapi-fetch';
import type { paths } from './openapi.js';

export type { paths } from './openapi.js';
export type TidewatchClient = ReturnType<typeof createTidewatchClient>;

export function createTidewatchClient(baseUrl: string, key: string, fetchImpl?: typeof fetch) {
  return createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${key}` }, ...(fetchImpl && { fetch: fetchImpl }) });
}
