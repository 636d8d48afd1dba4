-- What the dashboard's history shows of each live, and the admin's direct destinations
-- (plain RTMP/RTMPS targets outside Restream; the stream key is sealed).

ALTER TABLE lives ADD COLUMN peak_destinations INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lives ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;

CREATE TABLE direct_destinations (
    id          TEXT    PRIMARY KEY NOT NULL,
    label       TEXT    NOT NULL,
    server      TEXT    NOT NULL,   -- rtmp[s]://host[:port]/application, no key
    stream_key  BLOB    NOT NULL,   -- sealed (AES-256-GCM)
    enabled     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
