// `npm run gateway -- watch <folder> --api <url> --key <key>`: the scanner-site gateway. Pushes every
// complete scan in the folder (see scripts/gateway/folder.ts for the layout) and keeps watching.
import { parseArgs } from 'node:util';
import { GatewayAuthError, watchFolder } from './gateway/watch.js';

const USAGE = `usage:
  npm run gateway -- watch <folder> --api <url> --key <gateway key> [--journal <file>] [--interval <ms>] [--once]

  <folder>/<name>.json         scan metadata (scanId defaults to <name>); write it last, by rename
  <folder>/<name>.<ext>        the image, or
  <folder>/<name>_high.<ext>   + <name>_low.<ext> for dual energy
  <ext>: png, tif, tiff, jpg, jpeg, dcm, dicom
  The key may also come from TIDEWATCH_KEY. The journal defaults to <folder>/.tidewatch-journal.jsonl.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      api: { type: 'string' },
      key: { type: 'string' },
      journal: { type: 'string' },
      interval: { type: 'string' },
      once: { type: 'boolean' },
    },
  });
  const [command, dir] = positionals;
  const key = values.key ?? process.env.TIDEWATCH_KEY;
  if (command !== 'watch' || !dir || !values.api || !key) {
    console.error(USAGE);
    return 2;
  }
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());
  try {
    const counts = await watchFolder({
      dir,
      api: values.api,
      key,
      journalPath: values.journal,
      intervalMs: values.interval ? Number(values.interval) : undefined,
      once: values.once,
      signal: controller.signal,
    });
    console.log(`done: ${counts.stored} stored, ${counts.rejected} rejected`);
    return 0;
  } catch (err) {
    if (err instanceof GatewayAuthError) {
      console.error(err.message);
      return 3;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
