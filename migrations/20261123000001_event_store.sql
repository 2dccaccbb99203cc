-- The event log. Columns up to `metadata` are sqlite-es's schema, which its repository writes;
-- `position` and `recorded_at` are billstream's additions, filled in the same statement.
CREATE TABLE events
(
  aggregate_type text                          NOT NULL,
  aggregate_id   text                          NOT NULL,
  sequence       integer CHECK (sequence >= 0) NOT NULL,
  event_type     text                          NOT NULL,
  event_version  text                          NOT NULL,
  payload        text                          NOT NULL,
  metadata       text                          NOT NULL,
  position       integer,
  recorded_at    text                          NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (aggregate_type, aggregate_id, sequence)
) STRICT;

-- sqlite-es stores snapshots here when snapshotting is enabled.
CREATE TABLE snapshots
(
  aggregate_type   text                                  NOT NULL,
  aggregate_id     text                                  NOT NULL,
  last_sequence    integer CHECK (last_sequence >= 0)    NOT NULL,
  current_snapshot integer CHECK (current_snapshot >= 0) NOT NULL,
  payload          text                                  NOT NULL,
  PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
) STRICT;

-- Global position: gap-free and in commit order. SQLite admits one writer at a time, so a
-- position taken inside the inserting transaction is ordered like the commits; a rolled-back
-- transaction takes its position with it, so no gap is left.
CREATE UNIQUE INDEX events_by_position ON events (position);

CREATE TRIGGER events_assign_position
AFTER INSERT ON events
BEGIN
  UPDATE events
     SET position = (SELECT COALESCE(MAX(position), 0) + 1 FROM events)
   WHERE rowid = NEW.rowid;
END;

-- The log is append-only: nothing rewrites or removes an event once it is committed.
CREATE TRIGGER events_are_never_deleted
BEFORE DELETE ON events
BEGIN
  SELECT RAISE(ABORT, 'the event log is append-only');
END;

CREATE TRIGGER events_are_never_rewritten
BEFORE UPDATE OF aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, recorded_at
ON events
BEGIN
  SELECT RAISE(ABORT, 'the event log is append-only');
END;

CREATE TRIGGER event_positions_are_set_once
BEFORE UPDATE OF position ON events
WHEN OLD.position IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, 'an event position is set once');
END;

-- One account per e-mail address, enforced in the transaction that appends the registration:
-- a second `CustomerRegistered` for the same address fails its primary key, which the event
-- store reports as a conflict, so racing registrations cannot both commit. The table is
-- derived from the log (the e-mail is normalised before it reaches the event).
CREATE TABLE customer_emails
(
  email       text NOT NULL PRIMARY KEY,
  customer_id text NOT NULL
) STRICT;

CREATE TRIGGER customer_emails_claim
AFTER INSERT ON events
WHEN NEW.aggregate_type = 'Customer' AND NEW.event_type = 'CustomerRegistered'
BEGIN
  INSERT INTO customer_emails (email, customer_id)
  VALUES (json_extract(NEW.payload, '$.CustomerRegistered.email'), NEW.aggregate_id);
END;
