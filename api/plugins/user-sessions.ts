// User sessions: resolves `tws_…` bearer tokens to a user principal (role and reviewer tier), beside the
// API-client keys that api/plugins/auth.ts resolves. Sessions live in the database, so any API process
// accepts a token issued by another, and disabling a user ends their sessions at once.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Sql } from '../../storage/db/sql.js';
import { usersRepo } from '../../storage/repos/users.js';

export default fp(async function userSessions(app: FastifyInstance, opts: { db: Sql }) {
  const users = usersRepo(opts.db);
  app.addPrincipalResolver(async (token) => {
    if (!token.startsWith('tws_')) return null;
    const user = await users.userForSession(token);
    if (!user) return null;
    return { kind: 'user', id: user.id, name: user.username, role: user.role, ...(user.tier && { tier: user.tier }) };
  });
});
