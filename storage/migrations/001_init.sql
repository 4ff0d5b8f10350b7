-- Tidewatch schema v1: gateways, scans and their images, verdict events, audit chain, outbox.
-- Applied unchanged to PostgreSQL and PGlite.

CREATE TABLE gateways (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  key_hash    TEXT NOT NULL UNIQUE,   -- sha256 of the full key; keys are 256-bit random, so a fast hash is enough
  key_prefix  TEXT NOT NULL,          -- first characters, shown in `gateway list` to tell keys apart
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  revoked_at  TIMESTAMPTZ
);

CREATE TABLE scans (
  scan_id         TEXT PRIMARY KEY,
  gateway_id      TEXT NOT NULL REFERENCES gateways(id),
  scanner_id      TEXT NOT NULL,
  modality        TEXT NOT NULL,
  container_no    TEXT,
  waybill         TEXT,
  captured_at     TIMESTAMPTZ NOT NULL,
  weight_kg       DOUBLE PRECISION,
  content_hash    TEXT NOT NULL,      -- sha256 over metadata + image hashes: tells a retry from a conflict
  status          TEXT NOT NULL DEFAULT 'received',
  rendering_key   TEXT,
  rendering       JSONB,              -- width, height, channels of the stored rendering
  inference       JSONB,              -- model outputs (evidence), stored by the infer stage
  routed_at       TIMESTAMPTZ,
  received_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK (container_no IS NOT NULL OR waybill IS NOT NULL)
);
CREATE INDEX scans_status_updated ON scans (status, updated_at);
CREATE INDEX scans_unrouted ON scans (updated_at) WHERE routed_at IS NULL;
CREATE INDEX scans_container_no ON scans (container_no);
CREATE INDEX scans_waybill ON scans (waybill);

CREATE TABLE scan_images (
  scan_id       TEXT NOT NULL REFERENCES scans(scan_id),
  role          TEXT NOT NULL,        -- image | high | low
  object_key    TEXT NOT NULL,
  format        TEXT NOT NULL,        -- png | tiff | jpeg
  width         INTEGER NOT NULL,
  height        INTEGER NOT NULL,
  channels      INTEGER NOT NULL,
  bit_depth     INTEGER NOT NULL,
  bytes         BIGINT NOT NULL,
  sha256        TEXT NOT NULL,
  PRIMARY KEY (scan_id, role)
);

-- Verdicts are events: the machine's first, then reviewers' and inspections'. Never updated.
CREATE TABLE verdicts (
  id              BIGSERIAL PRIMARY KEY,
  scan_id         TEXT NOT NULL REFERENCES scans(scan_id),
  source          TEXT NOT NULL,      -- machine | reviewer | inspection | supervisor
  actor           TEXT,
  decision        TEXT NOT NULL,
  policy_version  TEXT NOT NULL,
  body            JSONB NOT NULL,     -- the full Verdict document
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- One machine verdict per scan, whatever retries happen.
CREATE UNIQUE INDEX verdicts_one_machine ON verdicts (scan_id) WHERE source = 'machine';
CREATE INDEX verdicts_scan ON verdicts (scan_id, id);

CREATE TABLE audit_log (
  id          BIGSERIAL PRIMARY KEY,
  at          TIMESTAMPTZ NOT NULL,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL,
  subject     TEXT NOT NULL,
  detail      JSONB NOT NULL,
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL UNIQUE
);

CREATE TABLE outbox (
  id               BIGSERIAL PRIMARY KEY,
  topic            TEXT NOT NULL,     -- verdict | lock | release | divert
  dedupe_key       TEXT NOT NULL UNIQUE,
  payload          JSONB NOT NULL,
  created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  delivered_at     TIMESTAMPTZ,
  dead_at          TIMESTAMPTZ,
  last_error       TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
