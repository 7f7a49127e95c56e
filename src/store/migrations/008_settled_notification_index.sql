-- The per-notification index leaves out rows being sent. A claim (queued -> sending) then only
-- removes a row from it, and a result (sending -> sent) only adds one; before, each moved the row
-- within this million-entry index twice. Rows being sent are few (the daemons' lane windows) and are
-- found through deliveries_leased. Queries by notification say `status <> 'sending'` to use it.
DROP INDEX IF EXISTS deliveries_notification;
CREATE INDEX deliveries_notification ON deliveries(notification_id, status, skip_reason) WHERE status <> 'sending';
