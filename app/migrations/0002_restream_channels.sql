-- The Restream channels behind each account, as last read from Restream (JSON list).
ALTER TABLE accounts ADD COLUMN restream_channels TEXT NOT NULL DEFAULT '[]';
