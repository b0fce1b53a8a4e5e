-- Rows of a roster import on their way into persons (issue 16). On PostgreSQL an
-- import streams its persons here with COPY under its own import_id, then its
-- transaction upserts them into persons in file order (seq) and deletes them.
-- UNLOGGED: these rows matter only until that transaction commits; rows an
-- interrupted import left behind are deleted by the next import after a day.
CREATE UNLOGGED TABLE import_persons (
    import_id          TEXT NOT NULL,
    seq                BIGINT NOT NULL,
    staged_at          TEXT NOT NULL,
    pkey               TEXT,
    number             TEXT,
    name               TEXT,
    sex                TEXT,
    id_number          TEXT,
    birth_date         TEXT,
    lunar_birthday     BIGINT,
    lunar_birth_date   TEXT,
    category           TEXT,
    rank               BIGINT,
    former_unit        TEXT,
    phone              TEXT,
    family_phone       TEXT,
    address            TEXT,
    community          TEXT,
    party_branch       TEXT,
    health             TEXT,
    self_care          TEXT,
    lives_alone        BIGINT,
    empty_nest         BIGINT,
    widowed            BIGINT,
    hardship           BIGINT,
    hospitalised_since TEXT,
    deceased_on        TEXT,
    tags               TEXT,
    active             BIGINT,
    updated_at         TEXT,
    imported           TEXT
);
CREATE INDEX import_persons_import ON import_persons(import_id, seq);
