-- The trial end a subscription's reminder was recorded for (`TrialEndingSoon`): the reminder
-- loop looks only at trials not yet reminded instead of asking every subscription in the
-- three-day window again at every poll. The aggregate still decides; this only saves the asks.
ALTER TABLE subscriptions ADD COLUMN trial_reminded_for text;
