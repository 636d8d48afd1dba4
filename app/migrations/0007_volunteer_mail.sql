-- The e-mails a volunteer takes ("needs you" unless they opt out, "we're live" if they opt in)
-- and when each was last sent, so a restart does not send again.

ALTER TABLE accounts ADD COLUMN mail_needs_you INTEGER NOT NULL DEFAULT 1;
ALTER TABLE accounts ADD COLUMN mail_live_notes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN mail_needs_you_at INTEGER;
ALTER TABLE accounts ADD COLUMN mail_live_note_for TEXT;
