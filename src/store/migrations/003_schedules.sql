-- Recurring sends. Each occurrence runs once: (schedule, occurrence) is unique, so a restart or a
-- second daemon cannot run it twice.
CREATE TABLE schedules (
  name        TEXT PRIMARY KEY,
  cron        TEXT NOT NULL,
  timezone    TEXT NOT NULL,
  template    TEXT NOT NULL,
  segment     TEXT NOT NULL,
  channels    TEXT,
  data        TEXT NOT NULL DEFAULT '{}',
  priority    TEXT,
  catch_up    TEXT NOT NULL DEFAULT 'skip' CHECK (catch_up IN ('skip', 'once')),
  paused      INTEGER NOT NULL DEFAULT 0,
  next_run_at INTEGER,
  last_run_at INTEGER,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX schedules_due ON schedules(next_run_at) WHERE paused = 0;

CREATE TABLE schedule_runs (
  schedule        TEXT NOT NULL,
  occurrence      INTEGER NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('ran', 'skipped', 'failed')),
  notification_id TEXT,
  detail          TEXT,
  at              INTEGER NOT NULL,
  PRIMARY KEY (schedule, occurrence)
);
