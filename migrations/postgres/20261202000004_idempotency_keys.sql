-- The first answer given to each of a customer's Idempotency-Keys (`src/usecases/common/
-- idempotency.rs`), shared by the nodes: a retry sent to another node than the first attempt
-- gets the same answer, and a different request under a used key is refused on every node.
CREATE TABLE api_idempotency_keys
(
  customer_id  text        NOT NULL,
  key          text        NOT NULL,
  request_hash text        NOT NULL,
  response     text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (customer_id, key)
);
