-- The delivery loop's round (`src/mail/outbox.rs`, `due`) asks for the oldest pending messages
-- that are due, in their events' order. `mail_outbox_due` put `next_attempt_at` first, so with
-- a backlog SQLite read every due row and sorted them all to return the first few: 25 ms per
-- round with 30,000 receipts waiting (BENCHMARKS.md, stop 40). This index is in the round's
-- order and holds only pending rows, so a round walks it and stops at its limit (a message
-- leased or retried later is skipped on the way). Neither a lease nor a retry changes its
-- key, so claiming a message no longer rewrites an index entry either.
DROP INDEX mail_outbox_due;
CREATE INDEX mail_outbox_pending ON mail_outbox (position) WHERE status = 'pending';
