-- API clients get a role (gateway, declaration-source, terminal, risk-control); declarations and their
-- subjects (container numbers or waybills) so scans and declarations meet whichever arrives first.

ALTER TABLE gateways ADD COLUMN role TEXT NOT NULL DEFAULT 'gateway';

CREATE TABLE declarations (
  declaration_id     TEXT PRIMARY KEY,
  body               JSONB NOT NULL,     -- the validated, normalized Declaration
  enterprise_id      TEXT NOT NULL,
  credit_level       TEXT NOT NULL,
  perishable         BOOLEAN NOT NULL DEFAULT false,
  vessel_closing_at  TIMESTAMPTZ,
  submitted_by       TEXT NOT NULL,
  version            INTEGER NOT NULL DEFAULT 1,
  created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX declarations_enterprise ON declarations (enterprise_id);

CREATE TABLE declaration_subjects (
  declaration_id  TEXT NOT NULL REFERENCES declarations(declaration_id) ON DELETE CASCADE,
  subject         TEXT NOT NULL,          -- 'C:' || container number, or 'W:' || waybill
  PRIMARY KEY (declaration_id, subject)
);
CREATE INDEX declaration_subjects_subject ON declaration_subjects (subject);

ALTER TABLE scans ADD COLUMN declaration_id TEXT;
