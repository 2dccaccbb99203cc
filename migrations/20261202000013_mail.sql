-- The mailer's outbox: one row per message, keyed by a Message-ID derived from the position of
-- the event the message tells about, so applying an event twice can never queue it twice.
-- The mailer fills it from the projector's transaction (its own checkpoint, `mailer`); the
-- delivery loop sends what is due and records every attempt.
CREATE TABLE mail_outbox
(
  message_id      text    NOT NULL PRIMARY KEY,
  position        integer NOT NULL,
  kind            text    NOT NULL,
  customer_id     text    NOT NULL,
  recipient       text    NOT NULL,
  language        text    NOT NULL,
  subject         text    NOT NULL,
  text_body       text    NOT NULL,
  html_body       text    NOT NULL,
  -- The invoice whose PDF is attached, rendered when the message is sent.
  invoice_id      text,
  status          text    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'parked')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at text    NOT NULL,
  last_error      text,
  created_at      text    NOT NULL,
  sent_at         text
) STRICT;

CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);

-- The local mailbox: where messages go when no SMTP server is configured (the embedded
-- default), so every e-mail the product would send can be read.
CREATE TABLE mailbox
(
  message_id   text NOT NULL PRIMARY KEY,
  recipient    text NOT NULL,
  subject      text NOT NULL,
  -- The whole message as it would have gone over SMTP (RFC 5322).
  raw          text NOT NULL,
  delivered_at text NOT NULL
) STRICT;

-- A database that already holds events starts mailing from its head: installing the mailer must
-- not send its whole history. A new database starts at 0 and mails everything.
INSERT INTO projection_checkpoints (projection, position)
SELECT 'mailer', COALESCE(MAX(position), 0) FROM events;
