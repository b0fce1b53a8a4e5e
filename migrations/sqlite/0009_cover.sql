-- Cover for absence (服务断档, issue 12). A pause holds a person's non-urgent
-- reminders from from_on to until_on (inclusive; NULL: until lifted) without
-- losing them. A delegation routes a staff member's reminders, escalations and
-- worklist to a colleague from from_on to until_on (inclusive).
CREATE TABLE pauses (
    id         INTEGER PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES persons(id),
    from_on    TEXT NOT NULL,
    until_on   TEXT,
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX pauses_person ON pauses(person_id);

CREATE TABLE delegations (
    id           INTEGER PRIMARY KEY,
    staff_number TEXT NOT NULL,
    to_staff     TEXT NOT NULL,
    from_on      TEXT NOT NULL,
    until_on     TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX delegations_staff ON delegations(staff_number);
