-- What a bearer token is checked against on every request (src/auth/store.rs), and the
-- counters that slow down password guessing.

-- The customer-profiles read model learns what ends a customer's tokens: every password change
-- bumps `credentials_version` (a token carries the version its password was checked against),
-- and `customer.deleted` from Stripe sets `deleted`. Rows already projected are filled from
-- the events they were built from (those up to the projection's checkpoint; the projector
-- applies the rest as usual).
ALTER TABLE customer_profiles ADD COLUMN credentials_version integer NOT NULL DEFAULT 0;
ALTER TABLE customer_profiles ADD COLUMN deleted integer NOT NULL DEFAULT 0;

UPDATE customer_profiles
   SET credentials_version = (
         SELECT COUNT(*) FROM events
          WHERE events.aggregate_type = 'Customer'
            AND events.aggregate_id = customer_profiles.id
            AND events.event_type = 'PasswordChanged'
            AND events.position <= (SELECT position FROM projection_checkpoints
                                     WHERE projection = 'customer_profiles')),
       deleted = (
         SELECT COUNT(*) > 0 FROM events
          WHERE events.aggregate_type = 'Customer'
            AND events.aggregate_id = customer_profiles.id
            AND events.event_type = 'StripeCustomerDeleted'
            AND events.position <= (SELECT position FROM projection_checkpoints
                                     WHERE projection = 'customer_profiles'));

-- Tokens ended by `POST /api/auth/logout`, by their `jti`, kept until the token would have
-- expired anyway. Not derived from the event log: a logout is session bookkeeping, not a fact
-- about the customer.
CREATE TABLE revoked_tokens
(
  jti         text NOT NULL PRIMARY KEY,
  customer_id text NOT NULL,
  expires_at  text NOT NULL
);

CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);

-- Failed logins per account (the normalised e-mail, whether or not an account has it), so
-- that the growing delays hold across restarts and across processes sharing the database. A
-- successful login removes the row.
CREATE TABLE login_failures
(
  email          text    NOT NULL PRIMARY KEY,
  failures       integer NOT NULL,
  last_failed_at text    NOT NULL
);

CREATE INDEX login_failures_by_time ON login_failures (last_failed_at);
