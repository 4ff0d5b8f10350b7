-- Tile vectors of a reference made from a long container (issue 11): one embedding per overlapping tile
-- along the length, [{"x", "width", "embedding"}] in rendering pixels, as the runtime gave them. NULL for
-- short containers, parcels, references made before this migration, and mixed loads (a tile cannot be
-- attributed to one of several declared codes).
ALTER TABLE reference_scans ADD COLUMN tile_embeddings JSONB;
