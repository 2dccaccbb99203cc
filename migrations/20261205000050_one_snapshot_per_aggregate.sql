-- Aggregate snapshots (cqrs-es's snapshot store): one row per aggregate, the newest, written in
-- the same group-committed transaction as the events it follows. sqlite-es's shape keyed the
-- row by its sequence too, which let an upsert leave an older row behind; the table was never
-- written before this release, so it is recreated keyed by the aggregate alone.
-- A snapshot is a cache of the aggregate's state at `last_sequence`: rows may be deleted at
-- any time (the next command replays the events and takes a new one). Nothing else reads it.
DROP TABLE snapshots;

CREATE TABLE snapshots
(
  aggregate_type   text                                  NOT NULL,
  aggregate_id     text                                  NOT NULL,
  last_sequence    integer CHECK (last_sequence >= 0)    NOT NULL,
  current_snapshot integer CHECK (current_snapshot >= 0) NOT NULL,
  payload          text                                  NOT NULL,
  PRIMARY KEY (aggregate_type, aggregate_id)
) STRICT;
