-- Shadow mode: a candidate policy's assessment of live scans beside the active one, never acted on.
CREATE TABLE shadow_assessments (
  scan_id             TEXT PRIMARY KEY REFERENCES scans(scan_id),
  active_version      TEXT NOT NULL,
  candidate_version   TEXT NOT NULL,
  active_decision     TEXT NOT NULL,
  candidate_decision  TEXT NOT NULL,
  differs             BOOLEAN NOT NULL,
  differences         JSONB NOT NULL,
  created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX shadow_assessments_differs ON shadow_assessments (created_at) WHERE differs;
