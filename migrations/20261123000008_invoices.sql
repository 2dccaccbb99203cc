-- Read model: one row per invoice, with its lines as JSON (they are only read whole).
CREATE TABLE invoices
(
  invoice_id        text    NOT NULL PRIMARY KEY,
  customer_id       text    NOT NULL,
  stripe_invoice_id text UNIQUE,
  number            text,
  status            text    NOT NULL,
  currency          text    NOT NULL,
  lines             text    NOT NULL,
  subtotal          integer NOT NULL,
  tax               integer NOT NULL,
  total             integer NOT NULL,
  amount_paid       integer NOT NULL DEFAULT 0,
  memo              text,
  collection_method text    NOT NULL,
  due_days          integer NOT NULL,
  due_date          text,
  created_position  integer NOT NULL,
  created_at        text    NOT NULL,
  finalized_at      text,
  paid_at           text,
  updated_at        text    NOT NULL
) STRICT;

CREATE INDEX invoices_by_customer ON invoices (customer_id, created_position DESC);
CREATE INDEX invoices_by_customer_status ON invoices (customer_id, status, created_position DESC);
