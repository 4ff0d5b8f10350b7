-- A retried inspection result (the client timed out and sent it again) must not be recorded twice: with an
-- Idempotency-Key header the first inspection's answer is kept and given again. The key is scoped to the client
-- that sent it (`<principal id>:<key>`); request_hash tells a retry from another request reusing the key.
ALTER TABLE inspections ADD COLUMN idempotency_key TEXT;
ALTER TABLE inspections ADD COLUMN request_hash TEXT;
ALTER TABLE inspections ADD COLUMN answer JSONB;
CREATE UNIQUE INDEX inspections_idempotency ON inspections (idempotency_key) WHERE idempotency_key IS NOT NULL;
