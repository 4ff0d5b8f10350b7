-- Manual review workflow: users and sessions, the review queue with leases, reviewer decisions, lock
-- instructions with their transitions, webhook subscriptions, inspections, reference candidates, and
-- what the audit chain and the verdict feed need. Applied unchanged to PostgreSQL and PGlite.

CREATE TABLE users (
  id             TEXT PRIMARY KEY,
  username       TEXT NOT NULL UNIQUE,
  display_name   TEXT NOT NULL,
  role           TEXT NOT NULL,          -- reviewer | supervisor | risk-control | admin
  tier           TEXT,                   -- reviewers: A senior, B independent, C trainee
  password_hash  TEXT NOT NULL,          -- argon2id (PHC string)
  failed_logins  INTEGER NOT NULL DEFAULT 0,
  locked_until   TIMESTAMPTZ,
  disabled_at    TIMESTAMPTZ,
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK ((role = 'reviewer') = (tier IS NOT NULL))
);

CREATE TABLE sessions (
  token_hash  TEXT PRIMARY KEY,          -- sha256 of the 256-bit random token
  user_id     TEXT NOT NULL REFERENCES users(id),
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at  TIMESTAMPTZ NOT NULL,
  revoked_at  TIMESTAMPTZ
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_attempts (
  id        BIGSERIAL PRIMARY KEY,
  ip        TEXT NOT NULL,
  username  TEXT NOT NULL,
  ok        BOOLEAN NOT NULL,
  at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_ip_at ON login_attempts (ip, at);

-- One item per scan the machine sent to people. The queue order's inputs are copied from the
-- declaration when the item is created, so the queue is one indexed read.
CREATE TABLE review_items (
  scan_id            TEXT PRIMARY KEY REFERENCES scans(scan_id),
  state              TEXT NOT NULL DEFAULT 'open',   -- open | awaiting-confirmation | awaiting-second | escalated | decided
  machine_verdict_id BIGINT NOT NULL,
  machine_decision   TEXT NOT NULL,
  reasons            JSONB NOT NULL,
  prohibited         BOOLEAN NOT NULL DEFAULT false,
  perishable         BOOLEAN NOT NULL DEFAULT false,
  vessel_closing_at  TIMESTAMPTZ,
  credit_level       TEXT,
  enterprise_id      TEXT,
  tier_rank          INTEGER NOT NULL,
  double_blind       BOOLEAN NOT NULL DEFAULT false,
  enqueued_at        TIMESTAMPTZ NOT NULL,
  sla_deadline       TIMESTAMPTZ NOT NULL,
  claimed_by         TEXT REFERENCES users(id),
  lease_expires_at   TIMESTAMPTZ,
  final_decision     TEXT,
  decided_at         TIMESTAMPTZ,
  updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX review_items_queue ON review_items (tier_rank, vessel_closing_at, enqueued_at, scan_id) WHERE state <> 'decided';
CREATE INDEX review_items_updated ON review_items (updated_at);
CREATE INDEX review_items_claimed ON review_items (claimed_by) WHERE claimed_by IS NOT NULL;

CREATE TABLE review_decisions (
  id            BIGSERIAL PRIMARY KEY,
  scan_id       TEXT NOT NULL REFERENCES review_items(scan_id),
  reviewer_id   TEXT NOT NULL REFERENCES users(id),
  role          TEXT NOT NULL,
  tier          TEXT,
  decision      TEXT NOT NULL,           -- clear | inspect | misdeclared
  reason        TEXT NOT NULL,
  comment       TEXT,
  boxes         JSONB NOT NULL DEFAULT '[]',
  status        TEXT NOT NULL,           -- pending-confirmation | counted | rejected
  confirmed_by  TEXT REFERENCES users(id),
  confirm_note  TEXT,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX review_decisions_scan ON review_decisions (scan_id, id);
CREATE INDEX review_decisions_created ON review_decisions (created_at);

CREATE TABLE lock_instructions (
  id            TEXT PRIMARY KEY,
  scan_id       TEXT NOT NULL REFERENCES scans(scan_id),
  container_no  TEXT NOT NULL,
  seal_no       TEXT,
  state         TEXT NOT NULL DEFAULT 'requested',
  reasons       JSONB NOT NULL,
  requested_by  TEXT NOT NULL,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- One lock instruction per scan: a retried route stage or a second decision adds nothing.
CREATE UNIQUE INDEX lock_instructions_scan ON lock_instructions (scan_id);
CREATE INDEX lock_instructions_container ON lock_instructions (container_no, state);

CREATE TABLE lock_transitions (
  id          BIGSERIAL PRIMARY KEY,
  lock_id     TEXT NOT NULL REFERENCES lock_instructions(id),
  from_state  TEXT,
  to_state    TEXT NOT NULL,
  actor       TEXT NOT NULL,
  reason      TEXT,
  at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX lock_transitions_lock ON lock_transitions (lock_id, id);

CREATE TABLE subscriptions (
  id          TEXT PRIMARY KEY,
  url         TEXT NOT NULL,
  decisions   JSONB,                     -- null: every decision
  secret      TEXT NOT NULL,             -- signs deliveries, so it is kept; shown to the client once
  created_by  TEXT NOT NULL,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  deleted_at  TIMESTAMPTZ
);

CREATE TABLE inspections (
  id             BIGSERIAL PRIMARY KEY,
  scan_id        TEXT NOT NULL REFERENCES scans(scan_id),
  result         TEXT NOT NULL,          -- nothing | undeclared-goods | prohibited-item | quantity-difference
  findings       TEXT,
  labels         JSONB NOT NULL DEFAULT '[]',
  photos         JSONB NOT NULL DEFAULT '[]',
  enterprise_id  TEXT,
  inspector      TEXT NOT NULL,
  verdict_id     BIGINT NOT NULL,
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX inspections_scan ON inspections (scan_id);
CREATE INDEX inspections_enterprise ON inspections (enterprise_id);
CREATE INDEX inspections_created ON inspections (created_at);

-- Scans whose goods an inspection verified as declared: candidates for the reference library.
CREATE TABLE reference_candidates (
  scan_id        TEXT NOT NULL REFERENCES scans(scan_id),
  hs_code        TEXT NOT NULL,
  inspection_id  BIGINT NOT NULL REFERENCES inspections(id),
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (scan_id, hs_code)
);
CREATE INDEX reference_candidates_hs ON reference_candidates (hs_code);

-- The audit chain: seq is dense (assigned under an advisory lock, so a rolled-back append leaves no gap);
-- audit_head records the newest entry so a deleted last row is seen too.
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);
CREATE TABLE audit_head (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  seq   BIGINT NOT NULL,
  hash  TEXT NOT NULL
);

-- The verdict feed reads events in (transaction id, id) order and only below the oldest running
-- transaction, so an event committed late is never skipped by a cursor that moved past it.
ALTER TABLE verdicts ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX verdicts_feed ON verdicts (txid, id);

-- Outbox deliveries: which destination a row goes to (terminal, or a subscription), for in-order delivery.
ALTER TABLE outbox ADD COLUMN destination TEXT;
CREATE INDEX outbox_destination_pending ON outbox (destination, id) WHERE delivered_at IS NULL AND dead_at IS NULL;

-- Only one dispatcher at a time delivers (several worker processes may run).
CREATE TABLE dispatcher_leases (
  name        TEXT PRIMARY KEY,
  holder      TEXT NOT NULL,
  expires_at  TIMESTAMPTZ NOT NULL
);
