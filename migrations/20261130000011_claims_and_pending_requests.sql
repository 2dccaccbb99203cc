-- One live subscription per plan and customer, enforced in the transaction that appends
-- billstream's request for it: `SubscriptionRequested` claims (customer, plan); a second claim
-- fails its primary key, which the event store reports as a conflict, so racing requests (in
-- any number of processes) cannot both commit. The Subscription aggregate decides when the
-- claim moves (a change of plan, and back if the provider refuses) and when it is released
-- (`SubscriptionRequestFailed`, `SubscriptionEnded`); these triggers only follow its events.
CREATE TABLE subscription_plan_claims
(
  customer_id     text NOT NULL,
  plan            text NOT NULL,
  subscription_id text NOT NULL UNIQUE,
  PRIMARY KEY (customer_id, plan)
) STRICT;

CREATE TRIGGER subscription_plan_claim
AFTER INSERT ON events
WHEN NEW.aggregate_type = 'Subscription' AND NEW.event_type = 'SubscriptionRequested'
BEGIN
  INSERT INTO subscription_plan_claims (customer_id, plan, subscription_id)
  VALUES (json_extract(NEW.payload, '$.SubscriptionRequested.customer_id'),
          json_extract(NEW.payload, '$.SubscriptionRequested.plan'),
          NEW.aggregate_id);
END;

CREATE TRIGGER subscription_plan_claim_moves
AFTER INSERT ON events
WHEN NEW.aggregate_type = 'Subscription' AND NEW.event_type = 'PlanChangeRequested'
BEGIN
  UPDATE subscription_plan_claims
     SET plan = json_extract(NEW.payload, '$.PlanChangeRequested.to')
   WHERE subscription_id = NEW.aggregate_id;
END;

CREATE TRIGGER subscription_plan_claim_moves_back
AFTER INSERT ON events
WHEN NEW.aggregate_type = 'Subscription' AND NEW.event_type = 'PlanChangeFailed'
 AND json_extract(NEW.payload, '$.PlanChangeFailed.back_to') IS NOT NULL
BEGIN
  UPDATE subscription_plan_claims
     SET plan = json_extract(NEW.payload, '$.PlanChangeFailed.back_to')
   WHERE subscription_id = NEW.aggregate_id;
END;

-- A plan changed at the provider (its dashboard) moves the claim too, unless the customer
-- already holds that plan elsewhere: the provider's fact is recorded either way.
CREATE TRIGGER subscription_plan_claim_follows_the_provider
AFTER INSERT ON events
WHEN NEW.aggregate_type = 'Subscription' AND NEW.event_type = 'SubscriptionStateChanged'
 AND json_extract(NEW.payload, '$.SubscriptionStateChanged.state.plan') IS NOT NULL
BEGIN
  UPDATE OR IGNORE subscription_plan_claims
     SET plan = json_extract(NEW.payload, '$.SubscriptionStateChanged.state.plan')
   WHERE subscription_id = NEW.aggregate_id;
END;

CREATE TRIGGER subscription_plan_claim_released
AFTER INSERT ON events
WHEN NEW.aggregate_type = 'Subscription'
 AND NEW.event_type IN ('SubscriptionRequestFailed', 'SubscriptionEnded')
BEGIN
  DELETE FROM subscription_plan_claims WHERE subscription_id = NEW.aggregate_id;
END;

-- Subscriptions live before this version held their plans through an in-process lock; they
-- hold them through claims from now on.
INSERT OR IGNORE INTO subscription_plan_claims (customer_id, plan, subscription_id)
SELECT customer_id, plan, subscription_id
  FROM subscriptions
 WHERE plan IS NOT NULL AND status NOT IN ('canceled', 'incomplete_expired');

-- Read model: billstream's requests still awaiting the provider's answer (refunds, new
-- subscriptions). A request left here by a crash is completed by asking the provider again
-- with the same idempotency key.
CREATE TABLE pending_requests
(
  request_id   text NOT NULL PRIMARY KEY,
  kind         text NOT NULL,
  aggregate_id text NOT NULL,
  requested_at text NOT NULL
) STRICT;

CREATE INDEX pending_requests_by_age ON pending_requests (requested_at);
