-- Invoice numbers: sequential per year with no gaps and no duplicates. A finalization event
-- carries the (year, sequence) it was given; this trigger claims it in the appending transaction,
-- so two finalizations proposing the same number cannot both commit (the loser's primary-key
-- clash is reported by the event store as a conflict, and it proposes the next number), and a
-- finalization that fails leaves no number behind. Numbers kept from Stripe carry no sequence.
CREATE TABLE invoice_numbers
(
  year       integer NOT NULL,
  sequence   integer NOT NULL CHECK (sequence >= 1),
  invoice_id text    NOT NULL,
  PRIMARY KEY (year, sequence)
) STRICT;

CREATE TRIGGER invoice_numbers_claim
AFTER INSERT ON events
WHEN NEW.aggregate_type = 'Invoice'
 AND NEW.event_type = 'InvoiceFinalized'
 AND json_extract(NEW.payload, '$.InvoiceFinalized.sequence') IS NOT NULL
BEGIN
  INSERT INTO invoice_numbers (year, sequence, invoice_id)
  VALUES (json_extract(NEW.payload, '$.InvoiceFinalized.year'),
          json_extract(NEW.payload, '$.InvoiceFinalized.sequence'),
          NEW.aggregate_id);
END;
