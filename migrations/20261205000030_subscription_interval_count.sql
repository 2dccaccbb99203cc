-- How many intervals one period of a subscription's price lasts (Stripe's
-- recurring.interval_count: 3 for a quarterly price), so that its monthly recurring revenue is
-- its amount over that many months. Every row written before is 1: the only count billstream's
-- catalog makes, and what the upcast events say (event version 1.1 of Subscription).
ALTER TABLE subscriptions ADD COLUMN interval_count integer NOT NULL DEFAULT 1;
