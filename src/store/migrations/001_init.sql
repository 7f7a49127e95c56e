-- Users, devices, preferences, templates, segments.
CREATE TABLE users (
  id          TEXT PRIMARY KEY,
  name        TEXT,
  email       TEXT,
  phone       TEXT,
  locale      TEXT,
  timezone    TEXT,
  attributes  TEXT NOT NULL DEFAULT '{}',
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX users_email ON users(email);
CREATE INDEX users_phone ON users(phone);
CREATE INDEX users_locale ON users(locale);
CREATE INDEX users_timezone ON users(timezone);
CREATE INDEX users_created ON users(created_at);

CREATE TABLE devices (
  id                 INTEGER PRIMARY KEY,
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  platform           TEXT NOT NULL CHECK (platform IN ('ios', 'android', 'web')),
  token              TEXT NOT NULL,
  subscription       TEXT,
  active             INTEGER NOT NULL DEFAULT 1,
  deactivated_at     INTEGER,
  deactivated_reason TEXT,
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  UNIQUE (platform, token)
);
CREATE INDEX devices_user ON devices(user_id, active);

-- One row per (user, channel, category); category '*' is the whole channel.
CREATE TABLE preferences (
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  channel    TEXT NOT NULL,
  category   TEXT NOT NULL,
  opt_in     INTEGER NOT NULL,
  source     TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, channel, category)
) WITHOUT ROWID;

-- The consent trail: every change, kept.
CREATE TABLE preference_history (
  id       INTEGER PRIMARY KEY,
  user_id  TEXT NOT NULL,
  channel  TEXT NOT NULL,
  category TEXT NOT NULL,
  opt_in   INTEGER NOT NULL,
  source   TEXT NOT NULL,
  at       INTEGER NOT NULL
);
CREATE INDEX preference_history_user ON preference_history(user_id, at);

-- Addresses that must not be sent to (bounced email, unreachable numbers).
CREATE TABLE suppressions (
  channel TEXT NOT NULL,
  address TEXT NOT NULL,
  reason  TEXT NOT NULL,
  at      INTEGER NOT NULL,
  PRIMARY KEY (channel, address)
) WITHOUT ROWID;

CREATE TABLE templates (
  name            TEXT PRIMARY KEY,
  category        TEXT NOT NULL,
  current_version INTEGER NOT NULL,
  deleted_at      INTEGER,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);

-- Every version of every template; sends record the version they used.
CREATE TABLE template_versions (
  name       TEXT NOT NULL,
  version    INTEGER NOT NULL,
  category   TEXT NOT NULL,
  body       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (name, version)
);

CREATE TABLE segments (
  name        TEXT PRIMARY KEY,
  expression  TEXT NOT NULL,
  description TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

-- Notifications (requests) and their deliveries: the outbox.
CREATE TABLE notifications (
  id               TEXT PRIMARY KEY,
  event_id         TEXT UNIQUE,
  template         TEXT NOT NULL,
  template_version INTEGER NOT NULL,
  category         TEXT NOT NULL,
  priority         INTEGER NOT NULL,
  data             TEXT NOT NULL DEFAULT '{}',
  audience         TEXT NOT NULL,
  channels         TEXT NOT NULL,
  is_campaign      INTEGER NOT NULL DEFAULT 0,
  status           TEXT NOT NULL,
  source           TEXT NOT NULL,
  app_id           TEXT,
  send_at          INTEGER,
  -- Delivery timing beyond send_at: {"localTime": "09:00", "date": "2026-12-01"} for local-time sends.
  timing           TEXT,
  counts           TEXT NOT NULL DEFAULT '{}',
  -- Fan-out progress: the last user id whose deliveries are written; resumable after a crash.
  fanout_after     TEXT,
  fanout_owner     TEXT,
  fanout_until     INTEGER,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
);
CREATE INDEX notifications_created ON notifications(created_at);
CREATE INDEX notifications_status ON notifications(status);

-- The explicit audience of a notification sent to a list of users (not a segment).
CREATE TABLE notification_recipients (
  notification_id TEXT NOT NULL,
  user_id         TEXT NOT NULL,
  PRIMARY KEY (notification_id, user_id)
) WITHOUT ROWID;

CREATE TABLE deliveries (
  id              INTEGER PRIMARY KEY,
  notification_id TEXT NOT NULL REFERENCES notifications(id),
  user_id         TEXT NOT NULL,
  channel         TEXT NOT NULL,
  provider        TEXT NOT NULL,
  device_id       INTEGER,
  address         TEXT,
  category        TEXT NOT NULL,
  priority        INTEGER NOT NULL,
  status          TEXT NOT NULL,
  skip_reason     TEXT,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_at         INTEGER NOT NULL,
  lease_owner     TEXT,
  lease_until     INTEGER,
  provider_id     TEXT,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  sent_at         INTEGER
);
-- Claims read this: due work per lane in priority order. Rows leave it when claimed.
CREATE INDEX deliveries_due ON deliveries(provider, priority, next_at) WHERE status IN ('queued', 'failed', 'scheduled');
CREATE INDEX deliveries_leased ON deliveries(lease_until) WHERE status = 'sending';
CREATE INDEX deliveries_notification ON deliveries(notification_id, status);
CREATE INDEX deliveries_user ON deliveries(user_id, created_at);
CREATE INDEX deliveries_status ON deliveries(status, updated_at);

-- The notification log: each delivery's transitions after creation.
CREATE TABLE delivery_events (
  id          INTEGER PRIMARY KEY,
  delivery_id INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  status      TEXT NOT NULL,
  detail      TEXT
);
CREATE INDEX delivery_events_delivery ON delivery_events(delivery_id);
CREATE INDEX delivery_events_at ON delivery_events(at);
