-- A person event is recorded once per (person, kind, date): concurrent imports of
-- the same change, or an import racing `event add`, insert it once. Duplicates
-- recorded before this migration are dropped, keeping the first.
DELETE FROM person_events
WHERE id NOT IN (SELECT MIN(id) FROM person_events GROUP BY person_id, kind, on_date);
CREATE UNIQUE INDEX person_events_once ON person_events(person_id, kind, on_date);
