-- `notify stats` on a campaign reads mostly indexes: deliveries by (status, skip reason) and
-- engagement by (type, machine, delivery). The deliveries index replaces the narrower one, so the
-- hot path maintains no extra index.
DROP INDEX IF EXISTS deliveries_notification;
CREATE INDEX deliveries_notification ON deliveries(notification_id, status, skip_reason);
DROP INDEX IF EXISTS engagement_notification;
CREATE INDEX engagement_notification ON engagement_events(notification_id, type, machine, delivery_id);
