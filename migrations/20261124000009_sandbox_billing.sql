-- The sandbox's Stripe Billing: a test clock, subscriptions and invoices, and each customer's
-- default payment method. Like the rest of the sandbox, only src/gateway/sandbox reads these.
ALTER TABLE sandbox_customers ADD COLUMN default_payment_method text;

-- Sandbox time is wall-clock time plus this offset (moved by POST /sandbox/clock/advance).
CREATE TABLE sandbox_clock
(
  id             integer NOT NULL PRIMARY KEY CHECK (id = 1),
  offset_seconds integer NOT NULL
) STRICT;
INSERT INTO sandbox_clock (id, offset_seconds) VALUES (1, 0);

-- next_event_at: when the subscription's trial or period ends (NULL once it has ended).
-- pending_items: prorations waiting for the next invoice.
CREATE TABLE sandbox_subscriptions
(
  id            text    NOT NULL PRIMARY KEY,
  customer      text    NOT NULL,
  object        text    NOT NULL,
  pending_items text    NOT NULL DEFAULT '[]',
  next_event_at integer
) STRICT;
CREATE INDEX sandbox_subscriptions_due ON sandbox_subscriptions (next_event_at);

-- next_attempt_at: when the next automatic collection attempt falls due.
CREATE TABLE sandbox_invoices
(
  id              text    NOT NULL PRIMARY KEY,
  customer        text    NOT NULL,
  subscription    text,
  object          text    NOT NULL,
  next_attempt_at integer
) STRICT;
CREATE INDEX sandbox_invoices_due ON sandbox_invoices (next_attempt_at);
