-- Manage links that can be revoked, repeated events counted instead of repeated, and the
-- indexes that retention and counting use.

ALTER TABLE accounts ADD COLUMN link_epoch INTEGER NOT NULL DEFAULT 0;

ALTER TABLE events ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1;
ALTER TABLE events ADD COLUMN last_at INTEGER;

CREATE INDEX events_at ON events (at);
CREATE INDEX events_same ON events (kind, account_id, video_id, id);
