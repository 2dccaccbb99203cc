-- Credit notes (avoirs): numbered AV-year-sequence, gapless per year like invoice numbers. A
-- CreditNoteIssued event carries the (year, sequence) it was given; this trigger claims it in
-- the appending transaction, so two notes proposing the same number cannot both commit (the
-- loser's primary-key clash is reported by the event store as a conflict, and it proposes the
-- next number), and a note that fails leaves no number behind.
CREATE TABLE credit_note_numbers
(
  year           integer NOT NULL,
  sequence       integer NOT NULL CHECK (sequence >= 1),
  invoice_id     text    NOT NULL,
  credit_note_id text    NOT NULL UNIQUE,
  PRIMARY KEY (year, sequence)
) STRICT;

CREATE TRIGGER credit_note_numbers_claim
AFTER INSERT ON events
WHEN NEW.aggregate_type = 'Invoice'
 AND NEW.event_type = 'CreditNoteIssued'
BEGIN
  INSERT INTO credit_note_numbers (year, sequence, invoice_id, credit_note_id)
  VALUES (json_extract(NEW.payload, '$.CreditNoteIssued.year'),
          json_extract(NEW.payload, '$.CreditNoteIssued.sequence'),
          NEW.aggregate_id,
          json_extract(NEW.payload, '$.CreditNoteIssued.credit_note_id'));
END;

-- Read model (the invoices projection): what credit notes credited on each invoice, and one
-- row per note.
ALTER TABLE invoices ADD COLUMN amount_credited integer NOT NULL DEFAULT 0;

CREATE TABLE invoice_credit_notes
(
  credit_note_id  text PRIMARY KEY,
  invoice_id      text    NOT NULL,
  customer_id     text    NOT NULL,
  number          text    NOT NULL,
  currency        text    NOT NULL,
  -- JSON array of the credited lines (CreditNoteLine).
  lines           text    NOT NULL,
  subtotal        integer NOT NULL,
  tax             integer NOT NULL,
  total           integer NOT NULL,
  reason          text    NOT NULL,
  -- reduces_amount_due, cancels_invoice or refund.
  outcome         text    NOT NULL,
  issued_at       text    NOT NULL,
  position        integer NOT NULL,
  document_sha256 text
) STRICT;
CREATE INDEX invoice_credit_notes_by_invoice ON invoice_credit_notes (invoice_id, position);

-- The legal document of each credit note, issued once like invoice_documents (first write
-- wins, never rewritten; not a read model). CreditNoteDocumentIssued records its SHA-256.
CREATE TABLE credit_note_documents
(
  credit_note_id text PRIMARY KEY,
  sha256         text NOT NULL,
  pdf            blob NOT NULL,
  facturx_xml    text NOT NULL,
  ubl_xml        text NOT NULL,
  issued_at      text NOT NULL
) STRICT;
