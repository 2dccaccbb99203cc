-- Read model: one row per payment, for the payment API and the history list.
CREATE TABLE payments
(
  payment_id        text    NOT NULL PRIMARY KEY,
  customer_id       text    NOT NULL,
  payment_intent_id text    NOT NULL UNIQUE,
  client_secret     text    NOT NULL,
  amount            integer NOT NULL,
  currency          text    NOT NULL,
  status            text    NOT NULL,
  description       text,
  metadata          text    NOT NULL,
  failure_code      text,
  failure_message   text,
  next_action       text,
  amount_received   integer NOT NULL DEFAULT 0,
  refunded_amount   integer NOT NULL DEFAULT 0,
  confirm_attempts  integer NOT NULL DEFAULT 0,
  refund_count      integer NOT NULL DEFAULT 0,
  -- the log position of PaymentCreated: orders the history newest first and keys its cursor
  created_position  integer NOT NULL,
  created_at        text    NOT NULL,
  updated_at        text    NOT NULL
) STRICT;

CREATE INDEX payments_history ON payments (customer_id, created_position DESC);
CREATE INDEX payments_history_by_status ON payments (customer_id, status, created_position DESC);

-- Answers to requests sent with an Idempotency-Key, replayed for retries of the same request.
-- Not a projection: a lost row only means a retry is answered from the payment itself.
CREATE TABLE api_idempotency_keys
(
  customer_id  text NOT NULL,
  key          text NOT NULL,
  request_hash text NOT NULL,
  response     text NOT NULL,
  created_at   text NOT NULL,
  PRIMARY KEY (customer_id, key)
) STRICT;
