-- Each projection's last applied event position, updated in the same transaction as its rows.
CREATE TABLE projection_checkpoints
(
  projection text    NOT NULL PRIMARY KEY,
  position   integer NOT NULL CHECK (position >= 0)
) STRICT;

-- Read model: customer profiles (and the credentials login checks).
CREATE TABLE customer_profiles
(
  id                 text NOT NULL PRIMARY KEY,
  email              text NOT NULL UNIQUE,
  name               text NOT NULL,
  phone              text,
  stripe_customer_id text NOT NULL,
  password_hash      text NOT NULL,
  created_at         text NOT NULL,
  updated_at         text NOT NULL
) STRICT;

CREATE INDEX customer_profiles_by_stripe_id ON customer_profiles (stripe_customer_id);
