// The typed client in api/client is generated from the app's OpenAPI document (`npm run client:gen`). If a
// route or schema changes without regenerating it, the gateway client and the tests would be typed against
// an API that no longer exists: this fails until the client is regenerated.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CLIENT_DIR, renderClient } from '../../scripts/client-gen.js';

it('api/client matches the OpenAPI document of the running app (run `npm run client:gen` when it does not)', { timeout: 60_000 }, async () => {
  const current = await renderClient();
  expect(current.paths).toBeGreaterThan(20);
  expect(await readFile(join(CLIENT_DIR, 'openapi.json'), 'utf8'), 'api/client/openapi.json is stale: npm run client:gen').toBe(current.json);
  expect(await readFile(join(CLIENT_DIR, 'openapi.d.ts'), 'utf8'), 'api/client/openapi.d.ts is stale: npm run client:gen').toBe(current.dts);
});
