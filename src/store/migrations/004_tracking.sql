-- Tracking: opens and clicks from links in email, unsubscribes, provider receipts; exports.
ALTER TABLE engagement_events ADD COLUMN machine INTEGER NOT NULL DEFAULT 0;
ALTER TABLE engagement_events ADD COLUMN detail TEXT;
CREATE INDEX engagement_type_delivery ON engagement_events(type, delivery_id);
CREATE INDEX deliveries_created ON deliveries(created_at);

-- How far each analytics stream has been forwarded (by the source table's id).
CREATE TABLE analytics_cursors (
  stream  TEXT PRIMARY KEY,
  last_id INTEGER NOT NULL
);
