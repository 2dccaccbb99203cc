-- The customer's e-mail preferences, shown in the profile and read by the mailer: the language
-- of their messages (NULL: the service's MAIL_LANGUAGE) and whether payment and refund
-- receipts are sent. No event set them before this migration, so the defaults are the truth.
ALTER TABLE customer_profiles ADD COLUMN mail_language text;
ALTER TABLE customer_profiles ADD COLUMN mail_receipts integer NOT NULL DEFAULT 1;
