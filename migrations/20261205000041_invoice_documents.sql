-- The legal document of each finalized invoice, issued once: the PDF/A-3 (with its embedded
-- Factur-X XML) and the same invoice as CII and UBL XML, stored as first written and never
-- rewritten (the service inserts with ON CONFLICT DO NOTHING and serves what is stored).
-- Not a read model: no replay or rebuild touches it; the invoice's InvoiceDocumentIssued
-- event records the PDF's SHA-256.
CREATE TABLE invoice_documents
(
  invoice_id  text PRIMARY KEY,
  sha256      text NOT NULL,
  pdf         blob NOT NULL,
  facturx_xml text NOT NULL,
  ubl_xml     text NOT NULL,
  issued_at   text NOT NULL
) STRICT;

-- The SHA-256 of the issued document, shown with the invoice (NULL until issued).
ALTER TABLE invoices ADD COLUMN document_sha256 text;
