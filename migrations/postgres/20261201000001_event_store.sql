-- The event store on PostgreSQL: the same log as SQLite's (`../20261123000001_event_store.sql`),
-- the same snapshots, and the same claims made in the appending transaction, so every
-- invariant the SQLite store holds for one process holds here for any number of nodes.

-- The event log. `position` is the global order: gap-free and in commit order, assigned by the
-- appending transaction from `event_log_head` (below), never by a sequence.
CREATE TABLE events
(
  aggregate_type text        NOT NULL,
  aggregate_id   text        NOT NULL,
  sequence       bigint      NOT NULL CHECK (sequence >= 0),
  event_type     text        NOT NULL,
  event_version  text        NOT NULL,
  payload        jsonb       NOT NULL,
  metadata       jsonb       NOT NULL,
  position       bigint      NOT NULL CHECK (position >= 1),
  recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT events_pkey PRIMARY KEY (aggregate_type, aggregate_id, sequence),
  CONSTRAINT events_position_key UNIQUE (position)
);

-- The last position given out. An appending transaction moves it forward by its own number of
-- events and takes the positions in between: the row stays locked until that transaction ends,
-- so appends take their positions one transaction after another, each commits before the next
-- can take any, and one that rolls back gives its positions back. A reader of "everything after
-- N" therefore never meets a smaller position committed later. (A bare sequence would not do:
-- concurrent transactions commit out of sequence order, and such a reader skips events.)
CREATE TABLE event_log_head
(
  singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_position bigint  NOT NULL CHECK (last_position >= 0)
);
INSERT INTO event_log_head (last_position) VALUES (0);

-- The log is append-only: nothing rewrites, removes or truncates an event once committed.
CREATE FUNCTION events_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the event log is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER events_are_never_rewritten_or_deleted
BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION events_are_append_only();

CREATE TRIGGER events_are_never_truncated
BEFORE TRUNCATE ON events
FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

-- One snapshot per aggregate (`src/store/snapshots.rs`): a cache, deletable at any time.
CREATE TABLE snapshots
(
  aggregate_type   text   NOT NULL,
  aggregate_id     text   NOT NULL,
  last_sequence    bigint NOT NULL CHECK (last_sequence >= 0),
  current_snapshot bigint NOT NULL CHECK (current_snapshot >= 0),
  payload          text   NOT NULL,
  PRIMARY KEY (aggregate_type, aggregate_id)
);

-- Claims: tables derived from the log by the trigger below, in the appending transaction. A
-- second claim of the same key fails that transaction, which the event store reports as a
-- conflict (the use case then reads the claim to tell a taken e-mail from a lost race).

-- One account per e-mail address.
CREATE TABLE customer_emails
(
  email       text NOT NULL,
  customer_id text NOT NULL,
  CONSTRAINT customer_emails_pkey PRIMARY KEY (email)
);

-- One live subscription per plan and customer.
CREATE TABLE subscription_plan_claims
(
  customer_id     text NOT NULL,
  plan            text NOT NULL,
  subscription_id text NOT NULL UNIQUE,
  CONSTRAINT subscription_plan_claims_pkey PRIMARY KEY (customer_id, plan)
);

-- Invoice numbers, gapless per year (numbers kept from Stripe carry no sequence).
CREATE TABLE invoice_numbers
(
  year       integer NOT NULL,
  sequence   integer NOT NULL CHECK (sequence >= 1),
  invoice_id text    NOT NULL,
  CONSTRAINT invoice_numbers_pkey PRIMARY KEY (year, sequence)
);

-- Credit note numbers, gapless per year.
CREATE TABLE credit_note_numbers
(
  year           integer NOT NULL,
  sequence       integer NOT NULL CHECK (sequence >= 1),
  invoice_id     text    NOT NULL,
  credit_note_id text    NOT NULL UNIQUE,
  CONSTRAINT credit_note_numbers_pkey PRIMARY KEY (year, sequence)
);

-- The claims each event makes, moves or releases: the SQLite store's triggers, one function.
CREATE FUNCTION events_claim() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  body jsonb := NEW.payload -> NEW.event_type;
BEGIN
  IF NEW.aggregate_type = 'Customer' AND NEW.event_type = 'CustomerRegistered' THEN
    INSERT INTO customer_emails (email, customer_id)
    VALUES (body ->> 'email', NEW.aggregate_id);

  ELSIF NEW.aggregate_type = 'Subscription' THEN
    IF NEW.event_type = 'SubscriptionRequested' THEN
      INSERT INTO subscription_plan_claims (customer_id, plan, subscription_id)
      VALUES (body ->> 'customer_id', body ->> 'plan', NEW.aggregate_id);
    ELSIF NEW.event_type = 'PlanChangeRequested' THEN
      UPDATE subscription_plan_claims SET plan = body ->> 'to'
       WHERE subscription_id = NEW.aggregate_id;
    ELSIF NEW.event_type = 'PlanChangeFailed' AND body ->> 'back_to' IS NOT NULL THEN
      UPDATE subscription_plan_claims SET plan = body ->> 'back_to'
       WHERE subscription_id = NEW.aggregate_id;
    ELSIF NEW.event_type = 'SubscriptionStateChanged'
      AND body #>> '{state,plan}' IS NOT NULL THEN
      -- A plan changed at the provider moves the claim too, unless the customer already holds
      -- that plan elsewhere: the provider's fact is recorded either way.
      BEGIN
        UPDATE subscription_plan_claims SET plan = body #>> '{state,plan}'
         WHERE subscription_id = NEW.aggregate_id;
      EXCEPTION WHEN unique_violation THEN
        NULL;
      END;
    ELSIF NEW.event_type IN ('SubscriptionRequestFailed', 'SubscriptionEnded') THEN
      DELETE FROM subscription_plan_claims WHERE subscription_id = NEW.aggregate_id;
    END IF;

  ELSIF NEW.aggregate_type = 'Invoice' THEN
    IF NEW.event_type = 'InvoiceFinalized' AND body ->> 'sequence' IS NOT NULL THEN
      INSERT INTO invoice_numbers (year, sequence, invoice_id)
      VALUES ((body ->> 'year')::integer, (body ->> 'sequence')::integer, NEW.aggregate_id);
    ELSIF NEW.event_type = 'CreditNoteIssued' THEN
      INSERT INTO credit_note_numbers (year, sequence, invoice_id, credit_note_id)
      VALUES ((body ->> 'year')::integer, (body ->> 'sequence')::integer, NEW.aggregate_id,
              body ->> 'credit_note_id');
    END IF;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER events_claims
AFTER INSERT ON events
FOR EACH ROW EXECUTE FUNCTION events_claim();
