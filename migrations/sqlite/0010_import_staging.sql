-- PostgreSQL only: its roster import stages persons in import_persons with COPY
-- (migrations/postgres/0010_import_staging.sql). SQLite upserts them in batches
-- and needs nothing here; this file keeps the two migration lists in step.
SELECT 1;
