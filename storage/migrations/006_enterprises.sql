-- Enterprise (shipper) records for risk control: the credit level customs holds for each enterprise.
-- Declarations create and refresh a record; once risk control sets the level (credit_source
-- 'risk-control') later declarations no longer change it, and the assessment uses the record's level.
CREATE TABLE enterprises (
  enterprise_id  TEXT PRIMARY KEY,
  name           TEXT,
  credit_level   TEXT NOT NULL,          -- aeo-advanced | aeo-general | ordinary | dishonest
  credit_source  TEXT NOT NULL,          -- declaration | risk-control
  reason         TEXT,                   -- risk control's reason for the level
  updated_by     TEXT NOT NULL,
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Enterprises already named by stored declarations, with the level of each one's newest declaration.
INSERT INTO enterprises (enterprise_id, name, credit_level, credit_source, updated_by, created_at, updated_at)
SELECT DISTINCT ON (enterprise_id) enterprise_id, body->'enterprise'->>'name', credit_level, 'declaration', submitted_by, created_at, updated_at
FROM declarations ORDER BY enterprise_id, updated_at DESC;

-- The enterprise summary counts verdict events by the declaration they name.
CREATE INDEX verdicts_declaration ON verdicts ((body->>'declarationId'));
