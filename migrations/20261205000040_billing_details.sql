-- The customer's billing details (company, SIREN, VAT number, address) as JSON text, shown in
-- the profile; NULL: none given. No event set them before this migration.
ALTER TABLE customer_profiles ADD COLUMN billing text;
