-- The offline sandbox the nodes share (`src/provider/sandbox/store.rs`): its customers,
-- payments, billing, idempotency keys, clock and webhook outbox, so a payment created through
-- one node is confirmed, refunded or renewed through any other.
-- The tables and columns are those of the node's file (`migrations/20261123000003_sandbox.sql`
-- and `20261124000009_sandbox_billing.sql`), with bigint for SQLite's integers, so one set of
-- statements serves both. Writes are serialized by a transaction-scoped advisory lock.
CREATE TABLE sandbox_customers
(
  id                     text   NOT NULL PRIMARY KEY,
  email                  text   NOT NULL,
  name                   text   NOT NULL,
  phone                  text,
  metadata               text   NOT NULL,
  created                bigint NOT NULL,
  deleted                bigint NOT NULL DEFAULT 0,
  default_payment_method text
);

CREATE TABLE sandbox_idempotency_keys
(
  key      text   NOT NULL PRIMARY KEY,
  request  text   NOT NULL,
  response text   NOT NULL,
  created  bigint NOT NULL
);

CREATE TABLE sandbox_payment_intents
(
  id     text NOT NULL PRIMARY KEY,
  object text NOT NULL
);

CREATE TABLE sandbox_charges
(
  id             text NOT NULL PRIMARY KEY,
  payment_intent text NOT NULL,
  object         text NOT NULL
);

CREATE TABLE sandbox_refunds
(
  id             text NOT NULL PRIMARY KEY,
  payment_intent text NOT NULL,
  object         text NOT NULL
);

-- Each node's delivery worker claims due events with FOR UPDATE SKIP LOCKED and holds them by
-- moving next_attempt_at (Unix milliseconds) past its claim.
CREATE TABLE sandbox_webhook_outbox
(
  seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id              text   NOT NULL UNIQUE,
  type            text   NOT NULL,
  payload         text   NOT NULL,
  attempts        bigint NOT NULL DEFAULT 0,
  next_attempt_at bigint NOT NULL,
  delivered_at    bigint,
  last_error      text
);
CREATE INDEX sandbox_webhook_outbox_due ON sandbox_webhook_outbox (next_attempt_at, seq)
  WHERE delivered_at IS NULL;

CREATE TABLE sandbox_clock
(
  id             bigint NOT NULL PRIMARY KEY CHECK (id = 1),
  offset_seconds bigint NOT NULL
);
INSERT INTO sandbox_clock (id, offset_seconds) VALUES (1, 0);

CREATE TABLE sandbox_subscriptions
(
  id            text   NOT NULL PRIMARY KEY,
  customer      text   NOT NULL,
  object        text   NOT NULL,
  pending_items text   NOT NULL DEFAULT '[]',
  next_event_at bigint
);
CREATE INDEX sandbox_subscriptions_due ON sandbox_subscriptions (next_event_at);

CREATE TABLE sandbox_invoices
(
  id              text   NOT NULL PRIMARY KEY,
  customer        text   NOT NULL,
  subscription    text,
  object          text   NOT NULL,
  next_attempt_at bigint
);
CREATE INDEX sandbox_invoices_due ON sandbox_invoices (next_attempt_at);
CREATE INDEX sandbox_invoices_by_subscription ON sandbox_invoices (subscription);
