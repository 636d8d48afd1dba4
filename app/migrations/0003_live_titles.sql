-- Which accounts' channel titles Fanout set for which live: a restarted Fanout resumes a live
-- without setting them again.
CREATE TABLE live_titles (
    video_id    TEXT    NOT NULL,
    account_id  TEXT    NOT NULL,
    set_at      INTEGER NOT NULL,
    PRIMARY KEY (video_id, account_id)
) STRICT;
