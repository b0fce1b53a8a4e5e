-- Roster: persons, staff, assignments, documents, person events, contacts.
-- Dates are ISO 8601 text (YYYY-MM-DD), instants RFC 3339 text; flags are 0/1.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE persons (
    id                 INTEGER PRIMARY KEY,
    pkey               TEXT NOT NULL UNIQUE,
    number             TEXT,
    name               TEXT NOT NULL,
    sex                TEXT,
    id_number          TEXT,
    birth_date         TEXT NOT NULL,
    lunar_birthday     INTEGER NOT NULL DEFAULT 0,
    lunar_birth_date   TEXT,
    category           TEXT NOT NULL,
    rank               INTEGER NOT NULL DEFAULT 0,
    former_unit        TEXT,
    phone              TEXT,
    family_phone       TEXT,
    address            TEXT,
    community          TEXT,
    party_branch       TEXT,
    health             TEXT,
    self_care          TEXT NOT NULL DEFAULT '自理',
    lives_alone        INTEGER NOT NULL DEFAULT 0,
    empty_nest         INTEGER NOT NULL DEFAULT 0,
    widowed            INTEGER NOT NULL DEFAULT 0,
    hardship           INTEGER NOT NULL DEFAULT 0,
    hospitalised_since TEXT,
    deceased_on        TEXT,
    tags               TEXT NOT NULL DEFAULT '',
    active             INTEGER NOT NULL DEFAULT 1,
    version            INTEGER NOT NULL DEFAULT 1,
    updated_at         TEXT NOT NULL
);

CREATE TABLE staff (
    id          INTEGER PRIMARY KEY,
    number      TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    mobile      TEXT,
    email       TEXT,
    wecom       TEXT,
    dingtalk    TEXT,
    feishu      TEXT,
    supervisor  TEXT,
    role        TEXT,
    channels    TEXT NOT NULL DEFAULT '',
    active      INTEGER NOT NULL DEFAULT 1,
    updated_at  TEXT NOT NULL
);

CREATE TABLE assignments (
    id           INTEGER PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES persons(id),
    staff_number TEXT NOT NULL,
    role         TEXT NOT NULL DEFAULT '联系人',
    position     INTEGER NOT NULL DEFAULT 0,
    since        TEXT NOT NULL,
    until        TEXT
);
CREATE INDEX assignments_person ON assignments(person_id);
CREATE INDEX assignments_staff ON assignments(staff_number);

CREATE TABLE documents (
    id         INTEGER PRIMARY KEY,
    title      TEXT NOT NULL,
    issued_on  TEXT NOT NULL,
    deadline   TEXT NOT NULL,
    audience   TEXT NOT NULL,
    min_rank   INTEGER,
    created_at TEXT NOT NULL
);

CREATE TABLE person_events (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES persons(id),
    kind        TEXT NOT NULL,
    on_date     TEXT NOT NULL,
    note        TEXT,
    recorded_at TEXT NOT NULL
);
CREATE INDEX person_events_person ON person_events(person_id);

CREATE TABLE contacts (
    id           INTEGER PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES persons(id),
    staff_number TEXT,
    on_date      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    note         TEXT,
    reference    TEXT,
    recorded_at  TEXT NOT NULL
);
CREATE INDEX contacts_person ON contacts(person_id, on_date);
