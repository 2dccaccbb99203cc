-- Every verified Stripe event, kept forever: committed before the endpoint answers 2xx, then
-- applied by the inbox worker. `created` is Stripe's clock; `seq` is arrival order.
CREATE TABLE stripe_inbox
(
  seq             integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  event_id        text    NOT NULL UNIQUE,
  type            text    NOT NULL,
  object_id       text,
  object_type     text,
  created         integer NOT NULL,
  livemode        integer NOT NULL,
  payload         text    NOT NULL,
  received_at     text    NOT NULL,
  -- pending | applied | ignored | unknown_customer | deferred | parked
  status          text    NOT NULL DEFAULT 'pending',
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at integer NOT NULL DEFAULT 0,
  last_error      text,
  processed_at    text
) STRICT;

CREATE INDEX stripe_inbox_due ON stripe_inbox (status, next_attempt_at, created, seq);
CREATE INDEX stripe_inbox_by_object ON stripe_inbox (object_id, created);
