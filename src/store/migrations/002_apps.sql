-- API clients (apps) and engagement reported by them.

-- One row per app key. The secret is never stored: only its SHA-256 (hex). A revoked app keeps its row
-- (and its name) so the notifications it sent stay attributed.
CREATE TABLE apps (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  key          TEXT NOT NULL UNIQUE,
  secret_hash  TEXT NOT NULL,
  scopes       TEXT NOT NULL DEFAULT '[]',
  rate_per_sec REAL NOT NULL,
  revoked_at   INTEGER,
  created_at   INTEGER NOT NULL,
  rotated_at   INTEGER
);

-- Opens, clicks and dismissals of a notification. Reported by an app (app_id set, source 'api') or by a
-- tracking link (app_id NULL). delivery_id and user_id are known when the reporter names them.
CREATE TABLE engagement_events (
  id              INTEGER PRIMARY KEY,
  notification_id TEXT NOT NULL,
  delivery_id     INTEGER,
  user_id         TEXT,
  type            TEXT NOT NULL,
  at              INTEGER NOT NULL,
  app_id          TEXT,
  source          TEXT NOT NULL,
  created_at      INTEGER NOT NULL
);
CREATE INDEX engagement_notification ON engagement_events(notification_id, type);
CREATE INDEX engagement_delivery ON engagement_events(delivery_id) WHERE delivery_id IS NOT NULL;
CREATE INDEX engagement_user ON engagement_events(user_id, at) WHERE user_id IS NOT NULL;
CREATE INDEX engagement_at ON engagement_events(at);
CREATE INDEX notifications_app ON notifications(app_id, created_at) WHERE app_id IS NOT NULL;
