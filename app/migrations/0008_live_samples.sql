-- A live's report: its status sampled every few seconds (a bounded number per live), and how
-- each destination fared over it (increments added up, so a restart adds to what was there).

CREATE TABLE live_samples (
    video_id      TEXT    NOT NULL,
    at            INTEGER NOT NULL,   -- Unix milliseconds
    streaming     INTEGER NOT NULL,
    destinations  INTEGER NOT NULL,
    egress_bps    INTEGER NOT NULL,
    reconnects    INTEGER NOT NULL,   -- since the previous sample
    slate         INTEGER NOT NULL,
    grace         INTEGER NOT NULL,
    PRIMARY KEY (video_id, at)
) STRICT;

CREATE TABLE live_destinations (
    video_id        TEXT    NOT NULL,
    destination_id  TEXT    NOT NULL, -- an account's id, or direct-<id>
    name            TEXT    NOT NULL,
    down_secs       INTEGER NOT NULL,
    reconnects      INTEGER NOT NULL,
    lowest_bps      INTEGER,          -- NULL until it streamed from one sample to the next
    PRIMARY KEY (video_id, destination_id)
) STRICT;

CREATE INDEX live_destinations_by_destination ON live_destinations (destination_id);
