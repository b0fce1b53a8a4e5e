-- Who holds a digest's claim (host and process id), so a restart releases only the
-- claims of processes that are gone; and whether the digest is urgent, so
-- retries honour the send window.
ALTER TABLE digests ADD COLUMN claimed_by TEXT;
ALTER TABLE digests ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;
