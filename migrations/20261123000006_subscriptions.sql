-- Read model: one row per subscription.
CREATE TABLE subscriptions
(
  subscription_id        text    NOT NULL PRIMARY KEY,
  customer_id            text    NOT NULL,
  stripe_subscription_id text    NOT NULL UNIQUE,
  plan                   text,
  status                 text    NOT NULL,
  current_period_start   text,
  current_period_end     text,
  trial_end              text,
  cancel_at_period_end   integer NOT NULL,
  created_at             text    NOT NULL,
  updated_at             text    NOT NULL
) STRICT;

CREATE INDEX subscriptions_by_customer ON subscriptions (customer_id, created_at DESC);
