-- The reference library (同屏比对 图库): embeddings of scans whose goods were verified, per HS code. A row
-- enters through a verified inspection, a supervisor's approval of a candidate, or an operator's import;
-- removal is soft (kept for the audit trail) and recorded in the audit log.
CREATE TABLE reference_scans (
  id             BIGSERIAL PRIMARY KEY,
  hs_code        TEXT NOT NULL,            -- 10 digits as declared or filed; matched at 10/6/4/2 digits
  modality       TEXT NOT NULL,
  scanner_id     TEXT,
  scan_id        TEXT REFERENCES scans(scan_id),
  image_key      TEXT NOT NULL,            -- object key of the 8-bit rendering shown as the thumbnail
  model          TEXT NOT NULL,            -- embeddings of different models or versions are not comparable
  model_version  TEXT NOT NULL,
  embedding      JSONB NOT NULL,           -- L2-normalised float vector
  source         TEXT NOT NULL,            -- inspection | approval | import
  inspection_id  BIGINT REFERENCES inspections(id),
  source_file    TEXT,
  added_by       TEXT NOT NULL,
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  removed_at     TIMESTAMPTZ,
  removed_by     TEXT,
  removed_reason TEXT
);
CREATE INDEX reference_scans_live ON reference_scans (modality, model, model_version) WHERE removed_at IS NULL;
CREATE INDEX reference_scans_hs ON reference_scans (hs_code) WHERE removed_at IS NULL;
CREATE UNIQUE INDEX reference_scans_scan_code ON reference_scans (scan_id, hs_code) WHERE scan_id IS NOT NULL AND removed_at IS NULL;

-- Candidates get an id (for the supervisor's approval) and remember what became of them
-- (status: pending | promoted | approved).
ALTER TABLE reference_candidates ADD COLUMN id BIGSERIAL;
ALTER TABLE reference_candidates ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE reference_candidates ADD COLUMN reference_id BIGINT REFERENCES reference_scans(id);
CREATE UNIQUE INDEX reference_candidates_id ON reference_candidates (id);
