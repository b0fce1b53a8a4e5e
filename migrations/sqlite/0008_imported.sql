-- The person as the last imported file had them (JSON of the parsed row). A
-- re-import compares each column with this, not with the stored person, so a
-- change made since by `event add` or `assign` stands until the file itself
-- changes that column. NULL for rows imported before this migration: their next
-- import takes the file as it is.
ALTER TABLE persons ADD COLUMN imported TEXT;

-- Coverage reports read the reminder stages of the occasions dated in a period.
CREATE INDEX reminders_occasion_on ON reminders(occasion_on);

-- Who read what: every report export and API read (issue 12). who is the API
-- token's name or the OS user; what names the report and its parameters; rows is
-- how many rows it gave.
CREATE TABLE audit (
    id   INTEGER PRIMARY KEY,
    at   TEXT NOT NULL,
    who  TEXT NOT NULL,
    what TEXT NOT NULL,
    rows INTEGER NOT NULL
);
