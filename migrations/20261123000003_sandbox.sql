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
