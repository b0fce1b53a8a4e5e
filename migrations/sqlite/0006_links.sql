-- Links in messages (issue 11). Only the SHA-256 of each token is stored: a copy of
-- the database cannot be turned into working links. kind is 'ack' (one occasion,
-- occasion_key set) or 'worklist' (a staff member's own page). A link works until
-- expires_on (inclusive) unless revoked.
CREATE TABLE links (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    staff_number TEXT NOT NULL,
    occasion_key TEXT,
    created_at   TEXT NOT NULL,
    expires_on   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX links_staff ON links(staff_number);
-- A contact's outcome: 'done' (the work was done; an acknowledgement when it names
-- an occasion) or 'not_done' (an attempt that failed, with its reason in note; the
-- occasion stays open). Contacts recorded before this migration were all done.
ALTER TABLE contacts ADD COLUMN outcome TEXT NOT NULL DEFAULT 'done';
