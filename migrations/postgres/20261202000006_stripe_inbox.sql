-- The webhook inbox the nodes share (`src/inbox/shared_store.rs`): every verified Stripe event,
-- committed here before any node answers 2xx, then applied by whichever node claims it.
-- The columns are those of the node's file (`migrations/20261123000005_stripe_inbox.sql`),
-- plus the claim:
--   * `lane` is the object whose events must be applied one after the other (a PaymentIntent
--     with its charges and refunds, a subscription, an invoice); a node claims only the oldest
--     due event of a lane, so one object's events are applied in Stripe's order on any node;
--   * `claimed_by` / `claimed_until` (the database's clock, Unix milliseconds) hold an event
--     for one node while it applies it; a node that dies leaves the claim to expire, and
--     another node takes the event then (applying an event twice changes nothing).
CREATE TABLE stripe_inbox
(
  seq             bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id        text    NOT NULL UNIQUE,
  type            text    NOT NULL,
  object_id       text,
  object_type     text,
  lane            text    NOT NULL,
  created         bigint  NOT NULL,
  livemode        boolean NOT NULL,
  payload         text    NOT NULL,
  received_at     text    NOT NULL,
  -- pending | applied | ignored | unknown_customer | deferred | parked
  status          text    NOT NULL DEFAULT 'pending',
  attempts        bigint  NOT NULL DEFAULT 0,
  next_attempt_at bigint  NOT NULL DEFAULT 0,
  last_error      text,
  processed_at    text,
  claimed_by      text,
  claimed_until   bigint  NOT NULL DEFAULT 0
);

CREATE INDEX stripe_inbox_due ON stripe_inbox (created, seq) WHERE status = 'pending';
CREATE INDEX stripe_inbox_lanes ON stripe_inbox (lane, created, seq) WHERE status = 'pending';
CREATE INDEX stripe_inbox_by_status ON stripe_inbox (status, seq);
