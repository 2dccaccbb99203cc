-- Every node's mailer queues every message the shared log calls for, in its own file, under the
-- same Message-ID (`src/mail/`). Before a node sends one, it claims it here: one node at a
-- time holds a message for one attempt (until `held_until`), and once a node has sent it
-- (`sent_at`), no other node sends it again (`src/mail/shared_claims.rs`).
CREATE TABLE mail_claims
(
  message_id text        PRIMARY KEY,
  node       text        NOT NULL,
  held_until timestamptz NOT NULL,
  sent_at    timestamptz
);
