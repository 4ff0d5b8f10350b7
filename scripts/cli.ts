// `npm run cli -- <area> <command>`: operator commands. Uses DATABASE_URL, else the embedded PGlite in DATA_DIR.
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase } from '../storage/open.js';
import type { Sql } from '../storage/db/sql.js';
import { gatewaysRepo, GatewayNameTakenError, type ClientRole } from '../storage/repos/gateways.js';
import { randomBytes } from 'node:crypto';
import { openObjectStore } from '../storage/open.js';
import { usersRepo, UsernameTakenError, USER_ROLES, TIERS, type Tier, type UserRole } from '../storage/repos/users.js';
import { auditRepo } from '../storage/repos/audit.js';
import { exportLabels } from './export-labels.js';
import { runDeclarationsImport } from './declarations-import.js';
import { runContainersImport } from './containers-import.js';
import { runReferencesCommand } from './references.js';
import type { Modality } from '../domain/scan.js';

type Command = (db: Sql, args: string[]) => Promise<number>;

const USAGE = `usage:
  npm run cli -- gateway add <name>                 create a scanner gateway; prints its API key once
  npm run cli -- gateway list                       list API clients (role, key prefix, created, revoked)
  npm run cli -- gateway revoke <name>              revoke a client's key
  npm run cli -- gateway rotate <name>              issue a new key (the old one stops working)
  npm run cli -- client add <name> <role>           an API client of another role:
                                                    declaration-source | terminal | risk-control
  npm run cli -- user add <username> <role> [tier]  a person: reviewer (tier A|B|C, default B) | supervisor |
                                                    risk-control | admin; prints a generated password once
  npm run cli -- user list                          list users (role, tier, locked, disabled)
  npm run cli -- user disable <username>            disable a user and end their sessions
  npm run cli -- user reset-password <username>     a new password; ends lockouts and the user's sessions
  npm run cli -- audit verify                       check the audit log's hash chain (exit 1 if broken)
  npm run cli -- export-labels --format coco|yolo --since <date> --out <dir>
                                                    snapshot reviewer and inspection labels for retraining
  npm run cli -- declarations import <file|folder> [--dry-run]
                                                    CSV / JSON / JSON Lines declarations; per-line error report
  npm run cli -- containers import <file.csv> [--dry-run]
                                                    tare weights into the container register (containerNo,
                                                    tareKg[, source]); per-line error report
  npm run cli -- references import <folder> [--modality container-xray] [--dry-run]
                                                    a labelled archive filed by HS code (<folder>/<code>/<image>):
                                                    embeds each image; per-file report, unknown codes rejected
  npm run cli -- references list [--hs <prefix>] [--all]
                                                    the reference library (--all: removed ones too)
  npm run cli -- references remove <id> --reason "<why>"
                                                    take a reference out of matching (audited)`;

const CLIENT_ROLES: readonly ClientRole[] = ['gateway', 'declaration-source', 'terminal', 'risk-control'];

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

async function addClient(db: Sql, name: string | undefined, role: string | undefined): Promise<number> {
  if (!name || !NAME.test(name)) {
    console.error('the name must be 1–64 letters, digits, dot, dash or underscore');
    return 2;
  }
  if (!CLIENT_ROLES.includes(role as ClientRole)) {
    console.error(`role must be one of: ${CLIENT_ROLES.join(', ')}`);
    return 2;
  }
  try {
    const { gateway, key } = await gatewaysRepo(db).add(name, role as ClientRole);
    console.log(`${role}: ${gateway.name}`);
    console.log(`${role === 'gateway' ? 'gateway' : 'client'} key: ${key}`);
    console.log('Store this key now: it is kept only as a hash and cannot be shown again.');
    return 0;
  } catch (err) {
    if (err instanceof GatewayNameTakenError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** The registered embedding model of a modality, loaded only by the commands that embed images. */
async function openEmbedder(modality: Modality) {
  const { createModelRuntime } = await import('../models/runtime/index.js');
  const config = loadConfig();
  const rt = await createModelRuntime({ registryDir: config.modelsDir, maxBatch: 1 });
  const card = rt.modelsFor(modality).find((c) => c.task === 'embed');
  if (!card) {
    await rt.close();
    throw new Error(`no embedding model is registered for ${modality} in ${config.modelsDir}`);
  }
  return {
    async embed(r: Parameters<typeof rt.infer>[1]) {
      const out = (await rt.infer(modality, r)).find((o) => o.model === card.name && o.embedding);
      if (!out?.embedding) throw new Error(`${card.name} gave no embedding`);
      return { model: card.name, version: card.version, embedding: out.embedding, ...(out.tiles && { tiles: out.tiles }) };
    },
    close: () => rt.close(),
  };
}

const commands: Record<string, Record<string, Command>> = {
  user: {
    async add(db, [username, role, tier]) {
      if (!username || !NAME.test(username)) {
        console.error('the username must be 1–64 letters, digits, dot, dash or underscore');
        return 2;
      }
      if (!USER_ROLES.includes(role as UserRole)) {
        console.error(`role must be one of: ${USER_ROLES.join(', ')}`);
        return 2;
      }
      if (tier !== undefined && (role !== 'reviewer' || !TIERS.includes(tier as Tier))) {
        console.error('a tier (A, B or C) is given for reviewers only');
        return 2;
      }
      const password = randomBytes(18).toString('base64url');
      try {
        const user = await usersRepo(db).add({ username, role: role as UserRole, tier: (tier as Tier | undefined) ?? null, password });
        console.log(`${user.role}${user.tier ? ` (tier ${user.tier})` : ''}: ${user.username}`);
        console.log(`password: ${password}`);
        console.log('Give this password to the user now: it is kept only as an argon2id hash and cannot be shown again.');
        return 0;
      } catch (err) {
        if (err instanceof UsernameTakenError) {
          console.error(err.message);
          return 1;
        }
        throw err;
      }
    },
    async list(db) {
      const users = await usersRepo(db).list();
      if (!users.length) console.log('no users');
      for (const u of users) {
        console.log(`${u.username}\t${u.role}${u.tier ? ` ${u.tier}` : ''}\tcreated ${u.createdAt}\t${u.disabledAt ? `disabled ${u.disabledAt}` : u.lockedUntil && Date.parse(u.lockedUntil) > Date.now() ? `locked until ${u.lockedUntil}` : 'active'}`);
      }
      return 0;
    },
    async 'reset-password'(db, [username]) {
      if (!username) {
        console.error(USAGE);
        return 2;
      }
      const password = randomBytes(18).toString('base64url');
      if (!(await usersRepo(db).setPassword(username, password))) {
        console.error(`no user named ${username}`);
        return 1;
      }
      console.log(`password: ${password}`);
      console.log('Give this password to the user now: their lockouts and sessions have ended.');
      return 0;
    },
    async disable(db, [username]) {
      if (!username) {
        console.error(USAGE);
        return 2;
      }
      const ok = await usersRepo(db).disable(username);
      console.log(ok ? `disabled ${username}; their sessions ended` : `no active user named ${username}`);
      return ok ? 0 : 1;
    },
  },
  audit: {
    async verify(db) {
      const check = await auditRepo(db).verify();
      if (check.ok) {
        console.log(`audit chain intact: ${check.entries} entries, head ${check.headHash}`);
        return 0;
      }
      console.error(`audit chain BROKEN at entry ${check.seq}: ${check.code}: ${check.message}`);
      return 1;
    },
  },
  'export-labels': {
    async run(db, args) {
      const format = flag(args, 'format');
      const since = flag(args, 'since') ?? '1970-01-01';
      const out = flag(args, 'out') ?? './datasets';
      if (format !== 'coco' && format !== 'yolo') {
        console.error('--format must be coco or yolo');
        return 2;
      }
      if (Number.isNaN(Date.parse(since))) {
        console.error('--since must be a date (ISO 8601)');
        return 2;
      }
      const objects = await openObjectStore(loadConfig()).catch(() => null);
      const r = await exportLabels(db, objects, { format, since: new Date(since).toISOString(), out });
      console.log(`exported ${r.images} images, ${r.annotations} boxes → ${r.dir} (version ${r.version})`);
      return 0;
    },
  },
  client: {
    add: (db, [name, role]) => addClient(db, name, role),
  },
  declarations: {
    import: (db, args) => runDeclarationsImport(db, args),
  },
  containers: {
    import: (db, args) => runContainersImport(db, args),
  },
  references: Object.fromEntries(
    ['import', 'list', 'remove'].map((c) => [c, (db: Sql, args: string[]) => runReferencesCommand(db, c, args, { objects: () => openObjectStore(loadConfig()), embed: openEmbedder })]),
  ),
  gateway: {
    add: (db, [name]) => addClient(db, name, 'gateway'),
    async rotate(db, [name]) {
      if (!name) {
        console.error(USAGE);
        return 2;
      }
      const { key } = await gatewaysRepo(db).rotate(name);
      console.log(`gateway key: ${key}`);
      console.log('the old key stops working within CLIENT_KEY_CACHE_MS (default 5 s) on every running API process');
      return 0;
    },
    async list(db) {
      const rows = await gatewaysRepo(db).list();
      if (!rows.length) console.log('no gateways');
      for (const g of rows) console.log(`${g.name}\t${g.role}\t${g.keyPrefix}…\tcreated ${g.createdAt}\t${g.revokedAt ? `revoked ${g.revokedAt}` : 'active'}`);
      return 0;
    },
    async revoke(db, [name]) {
      if (!name) {
        console.error(USAGE);
        return 2;
      }
      const ok = await gatewaysRepo(db).revoke(name);
      console.log(ok ? `revoked ${name}: its key stops working within CLIENT_KEY_CACHE_MS (default 5 s) on every running API process` : `no active gateway named ${name}`);
      return ok ? 0 : 1;
    },
  },
};

async function main(argv: string[]): Promise<number> {
  // export-labels takes flags, not a sub-command.
  const [area, command, ...args] = argv[0] === 'export-labels' ? ['export-labels', 'run', ...argv.slice(1)] : argv;
  const fn = area && command ? commands[area]?.[command] : undefined;
  if (!fn) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const db = await openDatabase(config);
  try {
    return await fn(db, args);
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  },
);
