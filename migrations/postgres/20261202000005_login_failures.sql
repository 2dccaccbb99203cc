-- Failed logins per account (the normalised e-mail), shared by the nodes so that the growing
-- delays hold whichever node a guess reaches (`src/auth/store.rs`). Times are ISO-8601 UTC
-- text of one width, as in the node's file, so the same statements run on both.
CREATE TABLE login_failures
(
  email          text   NOT NULL PRIMARY KEY,
  failures       bigint NOT NULL,
  last_failed_at text   NOT NULL
);
