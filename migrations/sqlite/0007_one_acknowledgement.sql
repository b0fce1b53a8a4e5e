-- An occasion is acknowledged once: at most one done contact carries its key, so
-- two answers at the same moment (a double tap, two daemons, `ack` run twice)
-- record one acknowledgement. Duplicates recorded before this migration are
-- dropped, keeping the first.
DELETE FROM contacts
WHERE outcome = 'done' AND reference IS NOT NULL
  AND id NOT IN (
    SELECT MIN(id) FROM contacts
    WHERE outcome = 'done' AND reference IS NOT NULL
    GROUP BY reference
  );
CREATE UNIQUE INDEX contacts_one_acknowledgement ON contacts(reference)
WHERE outcome = 'done' AND reference IS NOT NULL;
