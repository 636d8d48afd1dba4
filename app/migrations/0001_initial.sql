-- Fanout's embedded store. Timestamps are milliseconds since the Unix epoch (UTC).

CREATE TABLE accounts (
    id                 TEXT    PRIMARY KEY NOT NULL,
    display_name       TEXT    NOT NULL,
    email              TEXT    NOT NULL,
    channels           TEXT    NOT NULL,          -- JSON of the volunteer's channel URLs
    restream_user_id   INTEGER NOT NULL UNIQUE,   -- a reconnect updates, never duplicates
    restream_username  TEXT    NOT NULL,
    restream_email     TEXT    NOT NULL,
    access_token       BLOB,                      -- sealed (AES-256-GCM); NULL once disconnected
    refresh_token      BLOB,                      -- sealed (AES-256-GCM)
    access_expires_at  INTEGER,
    status             TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) STRICT;

CREATE TABLE pending_signups (
    state          TEXT    PRIMARY KEY NOT NULL,  -- the OAuth state, single use
    details        TEXT    NOT NULL,              -- JSON of the submitted form
    pkce_verifier  BLOB,                          -- sealed
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    consumed_at    INTEGER
) STRICT;

CREATE INDEX pending_signups_expiry ON pending_signups (expires_at);

CREATE TABLE lives (
    video_id     TEXT    PRIMARY KEY NOT NULL,
    title        TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    detected_at  INTEGER NOT NULL,
    started_at   INTEGER,
    ended_at     INTEGER
) STRICT;

CREATE INDEX lives_detected ON lives (detected_at);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    account_id  TEXT,
    video_id    TEXT,
    message     TEXT    NOT NULL
) STRICT;

CREATE INDEX events_kind ON events (kind, id);
CREATE INDEX events_account ON events (account_id, id);

CREATE TABLE meta (
    key    TEXT PRIMARY KEY NOT NULL,
    value  BLOB NOT NULL
) STRICT;
