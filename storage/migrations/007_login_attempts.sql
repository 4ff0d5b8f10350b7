-- Sign-in throttling keyed on the username and the address (domain/auth/login-lockout.ts). Each attempt
-- records its outcome (ok | failed | refused: turned away while locked) and whether it started a lockout
-- (locks: 'address' for this address only, 'account' for every address); 'reset' rows (a new password)
-- end earlier lockouts. Rows older than the longest window are pruned on every write.
ALTER TABLE login_attempts ADD COLUMN outcome TEXT;
UPDATE login_attempts SET outcome = CASE WHEN ok THEN 'ok' ELSE 'failed' END;
ALTER TABLE login_attempts ALTER COLUMN outcome SET NOT NULL;
ALTER TABLE login_attempts ADD COLUMN locks TEXT;
CREATE INDEX login_attempts_username_at ON login_attempts (username, at);
CREATE INDEX login_attempts_at ON login_attempts (at);
