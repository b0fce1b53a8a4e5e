-- One reminder record: the row carries everything the dispatcher needs, so it no
-- longer asks the rule set. sub_key is the occasion's sub-key (a document id);
-- after_death says the rule's reminders survive the person's death. Rows stored
-- before this migration came from the shipped rules, where only the condolence
-- rule has after_death.
ALTER TABLE reminders ADD COLUMN sub_key TEXT NOT NULL DEFAULT '';
ALTER TABLE reminders ADD COLUMN after_death BIGINT NOT NULL DEFAULT 0;
UPDATE reminders SET after_death = 1 WHERE rule = 'condolence';
