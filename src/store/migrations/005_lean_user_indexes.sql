-- Imports write every index of users: keep the ones lookups and segments use (id, email, locale).
-- Phone, timezone and creation time are read in full scans (fan-out timing, segments) anyway.
DROP INDEX IF EXISTS users_phone;
DROP INDEX IF EXISTS users_timezone;
DROP INDEX IF EXISTS users_created;
