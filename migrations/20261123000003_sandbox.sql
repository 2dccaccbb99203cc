-- The offline sandbox's "Stripe-side" state. It lives in the same file but belongs to the
-- simulated provider, not to billstream: nothing outside src/gateway/sandbox reads it.
CREATE TABLE sandbox_customers
(
  id          text    NOT NULL PRIMARY KEY,
  email       text    NOT NULL,
  name        text    NOT NULL,
  phone       text,
  metadata    text    NOT NULL,
  created     integer NOT NULL,
  deleted     integer NOT NULL DEFAULT 0
) STRICT;

-- Like Stripe, the sandbox remembers each idempotency key with the request it answered.
CREATE TABLE sandbox_idempotency_keys
(
  key         text    NOT NULL PRIMARY KEY,
  request     text    NOT NULL,
  response    text    NOT NULL,
  created     integer NOT NULL
) STRICT;

-- PaymentIntents, charges and refunds, stored as the Stripe-shaped documents the sandbox serves.
CREATE TABLE sandbox_payment_intents
(
  id     text NOT NULL PRIMARY KEY,
  object text NOT NULL
) STRICT;

CREATE TABLE sandbox_charges
(
  id             text NOT NULL PRIMARY KEY,
  payment_intent text NOT NULL,
  object         text NOT NULL
) STRICT;

CREATE TABLE sandbox_refunds
(
  id             text NOT NULL PRIMARY KEY,
  payment_intent text NOT NULL,
  object         text NOT NULL
) STRICT;

-- The outbox of Stripe-format events for the service's webhook endpoint, in queue order.
CREATE TABLE sandbox_webhook_outbox
(
  seq             integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  id              text    NOT NULL UNIQUE,
  type            text    NOT NULL,
  payload         text    NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at integer NOT NULL,
  delivered_at    integer,
  last_error      text
) STRICT;

CREATE INDEX sandbox_webhook_outbox_due ON sandbox_webhook_outbox (delivered_at, next_attempt_at);
