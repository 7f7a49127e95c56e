-- Every delivery changes status twice (claim, result): keep the indexes those writes maintain to the
-- ones the claim loop, campaigns and stats read. `notify log --status` and exports by time scan instead.
DROP INDEX IF EXISTS deliveries_status;
DROP INDEX IF EXISTS delivery_events_at;
