-- The subscriptions and invoices views gain the fields billing needs. Read models are rebuilt
-- from the log, so the tables are recreated and their checkpoints reset: the projector
-- replays them at start-up.
DROP TABLE subscriptions;
CREATE TABLE subscriptions
(
  subscription_id        text    NOT NULL PRIMARY KEY,
  customer_id            text    NOT NULL,
  stripe_subscription_id text    NOT NULL UNIQUE,
  plan                   text,
  price                  text,
  amount                 integer,
  currency               text,
  interval               text,
  status                 text    NOT NULL,
  current_period_start   text,
  current_period_end     text,
  trial_end              text,
  cancel_at_period_end   integer NOT NULL,
  canceled_at            text,
  ended_at               text,
  created_at             text    NOT NULL,
  updated_at             text    NOT NULL
) STRICT;
CREATE INDEX subscriptions_by_customer ON subscriptions (customer_id, created_at DESC);
CREATE INDEX subscriptions_by_status ON subscriptions (status);

DROP TABLE invoices;
CREATE TABLE invoices
(
  invoice_id             text    NOT NULL PRIMARY KEY,
  customer_id            text    NOT NULL,
  stripe_invoice_id      text UNIQUE,
  stripe_subscription_id text,
  number                 text,
  status                 text    NOT NULL,
  currency               text    NOT NULL,
  lines                  text    NOT NULL,
  subtotal               integer NOT NULL,
  tax                    integer NOT NULL,
  total                  integer NOT NULL,
  amount_paid            integer NOT NULL DEFAULT 0,
  memo                   text,
  collection_method      text    NOT NULL,
  due_days               integer NOT NULL,
  due_date               text,
  hosted_invoice_url     text,
  pdf_url                text,
  attempt_count          integer NOT NULL DEFAULT 0,
  next_payment_attempt   text,
  last_payment_error     text,
  created_position       integer NOT NULL,
  created_at             text    NOT NULL,
  finalized_at           text,
  paid_at                text,
  sent_at                text,
  updated_at             text    NOT NULL
) STRICT;
CREATE INDEX invoices_by_customer ON invoices (customer_id, created_position DESC);
CREATE INDEX invoices_by_customer_status ON invoices (customer_id, status, created_position DESC);
CREATE INDEX invoices_by_paid_at ON invoices (paid_at);

DELETE FROM projection_checkpoints WHERE projection IN ('subscriptions', 'invoices');
