-- The inbox worker's claim (`src/inbox/node_store.rs`, `due`) asks for the oldest pending events
-- that are due, in Stripe's order (`created`, then `seq`). `stripe_inbox_due` put
-- `next_attempt_at` before `created`, so SQLite read every pending row, payload included, and
-- sorted them all to return the first 500: each claim cost as much as the whole backlog. This
-- index is in the claim's order and holds only pending rows, so a claim walks it and stops at
-- its limit (a retried event not yet due is skipped on the way); it also serves the counts of
-- pending events.
DROP INDEX stripe_inbox_due;
CREATE INDEX stripe_inbox_pending ON stripe_inbox (created, seq) WHERE status = 'pending';
