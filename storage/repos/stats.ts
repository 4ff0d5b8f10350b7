// Figures for supervisors: machine auto-clear rate, queue depth and overdue items, reviewer throughput.
import type { Queryable } from '../db/sql.js';

export function statsRepo(db: Queryable) {
  return {
    async snapshot() {
      const machine = (
        await db.query<{ total: string; clear: string }>(
          `SELECT count(*)::text AS total, count(*) FILTER (WHERE decision = 'clear')::text AS clear
           FROM verdicts WHERE source = 'machine' AND created_at > now() - interval '24 hours'`,
        )
      ).rows[0]!;
      const queue = (
        await db.query<{ depth: string; overdue: string }>(
          `SELECT count(*)::text AS depth, count(*) FILTER (WHERE sla_deadline < now())::text AS overdue FROM review_items WHERE state <> 'decided'`,
        )
      ).rows[0]!;
      const throughput = (
        await db.query<{ reviewer: string; decisions: string }>(
          `SELECT u.username AS reviewer, count(*)::text AS decisions FROM review_decisions d JOIN users u ON u.id = d.reviewer_id
           WHERE d.created_at >= date_trunc('day', now()) GROUP BY u.username ORDER BY count(*) DESC, u.username`,
        )
      ).rows;
      const byHour = (
        await db.query<{ hour: Date | string; clear: string; review: string; hold: string }>(
          `SELECT date_trunc('hour', created_at) AS hour,
             count(*) FILTER (WHERE decision = 'clear')::text AS clear,
             count(*) FILTER (WHERE decision = 'review')::text AS review,
             count(*) FILTER (WHERE decision = 'hold')::text AS hold
           FROM verdicts WHERE created_at > now() - interval '24 hours' GROUP BY 1 ORDER BY 1`,
        )
      ).rows;
      const total = Number(machine.total);
      return {
        autoClearRate: total ? Number(machine.clear) / total : 0,
        machineVerdicts24h: total,
        queueDepth: Number(queue.depth),
        overdue: Number(queue.overdue),
        decisionsToday: throughput.reduce((a, t) => a + Number(t.decisions), 0),
        reviewerThroughput: throughput.map((t) => ({ reviewer: t.reviewer, decisions: Number(t.decisions) })),
        verdictsByHour: byHour.map((h) => ({ hour: new Date(h.hour).toISOString(), clear: Number(h.clear), review: Number(h.review), hold: Number(h.hold) })),
      };
    },
  };
}
