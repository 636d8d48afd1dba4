-- The JSON API's bearer tokens: only each token's SHA-256 is kept, never the token.

CREATE TABLE api_tokens (
    id            TEXT    PRIMARY KEY NOT NULL,
    name          TEXT    NOT NULL,
    token_hash    BLOB    NOT NULL UNIQUE,  -- SHA-256 of the token
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
) STRICT;
