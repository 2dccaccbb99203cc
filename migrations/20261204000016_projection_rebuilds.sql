-- When a full replay last rebuilt each projection (RFC 3339, UTC), for the operators'
-- projection health; NULL until the first replay after this migration.
ALTER TABLE projection_checkpoints ADD COLUMN rebuilt_at text;
