-- The container register: each box's tare weight (from its CSC plate, the owner's fleet list or a weighing of
-- the empty box), kept by container number. The manifest check compares a container's weight with tare plus
-- declared gross; a declaration that gives no tare is completed from here.
CREATE TABLE container_register (
  container_no  TEXT PRIMARY KEY,          -- ISO 6346, check digit verified
  tare_kg       DOUBLE PRECISION NOT NULL,
  source        TEXT,                      -- where the figure comes from, as the sender says
  updated_by    TEXT NOT NULL,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
