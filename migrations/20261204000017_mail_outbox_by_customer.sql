-- The customer's timeline (GET /api/admin/customers/{id}/timeline) reads the e-mails sent to a
-- customer through the outbox.
CREATE INDEX mail_outbox_customer ON mail_outbox (customer_id);
