-- skyd schema, version 11: task buckets may live in Google Cloud Storage too (docs/storage.md).
-- Released: never edit, add 0012_*.sql.
ALTER TABLE buckets DROP CONSTRAINT buckets_store_check;
ALTER TABLE buckets ADD CONSTRAINT buckets_store_check CHECK (store IN ('s3', 'gcs', 'local'));
