-- The durable outbox: reminder stages, the digests that carry them, and one
-- delivery row per (stage, channel tried).

CREATE TABLE reminders (
    id           INTEGER PRIMARY KEY,
    stage_key    TEXT NOT NULL UNIQUE,
    occasion_key TEXT NOT NULL,
    reference    TEXT NOT NULL,
    rule         TEXT NOT NULL,
    person_id    INTEGER NOT NULL,
    occasion_on  TEXT NOT NULL,
    stage        TEXT NOT NULL,
    lead_days    INTEGER,
    remind_on    TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    title        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    urgent       INTEGER NOT NULL DEFAULT 0,
    satisfied_by TEXT NOT NULL DEFAULT '',
    window_from  TEXT,
    window_to    TEXT,
    channels     TEXT NOT NULL DEFAULT '',
    -- planned, sent, cancelled, missed, failed
    status       TEXT NOT NULL,
    late         INTEGER NOT NULL DEFAULT 0,
    note         TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX reminders_status_day ON reminders(status, remind_on);
CREATE INDEX reminders_reference ON reminders(reference);
CREATE INDEX reminders_occasion ON reminders(occasion_key);

CREATE TABLE digests (
    id              INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    channel         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    payload         TEXT NOT NULL,
    -- pending, sending, sent, failed, cancelled
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at TEXT NOT NULL,
    claimed_until   TEXT,
    provider_id     TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX digests_status ON digests(status, next_attempt_at);

CREATE TABLE deliveries (
    id           INTEGER PRIMARY KEY,
    reminder_id  INTEGER NOT NULL REFERENCES reminders(id),
    channel      TEXT NOT NULL,
    digest_id    INTEGER REFERENCES digests(id),
    -- pending, sending, sent, failed, cancelled
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    provider_id  TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (reminder_id, channel)
);
CREATE INDEX deliveries_status ON deliveries(status);
CREATE INDEX deliveries_digest ON deliveries(digest_id);
