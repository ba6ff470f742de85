-- skyd schema, version 8: the buckets task file_mounts use, each a row written before skyd acts on
-- it (docs/storage.md). Released: never edit, add 0009_*.sql.

-- One row per bucket a job has used. `state` moves creating -> ready -> deleting -> deleted; a
-- row still `creating` or `deleting` after a crash names a call that may have happened, and is
-- finished (the same call again: creating and deleting a bucket are idempotent) before anything
-- else touches the bucket. `created_by_skyd` is false for a bucket that existed before the job
-- named it: skyd never deletes one of those.
CREATE TABLE buckets (
  store text NOT NULL CHECK (store IN ('s3', 'local')),
  name text NOT NULL,
  region text NOT NULL DEFAULT '',
  state text NOT NULL CHECK (state IN ('creating', 'ready', 'deleting', 'deleted')),
  created_by_skyd boolean NOT NULL,
  persistent boolean NOT NULL DEFAULT true,
  owner_uid bigint NOT NULL,
  owner_name text NOT NULL DEFAULT '',
  job_id bigint REFERENCES jobs (id) ON DELETE SET NULL,  -- the job that first used it
  -- SHA-256 of the last `source:` tree uploaded into it, once every object is stored.
  uploaded_digest text,
  size_bytes bigint,  -- what the last upload or listing counted
  detail text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  PRIMARY KEY (store, name)
);
CREATE INDEX buckets_by_job ON buckets (job_id);

-- For ops dashboards: the buckets that exist (or may), with their owner job's status.
CREATE VIEW bucket_overview AS
SELECT b.store, b.name, b.region, b.state, b.created_by_skyd, b.persistent, b.owner_name,
       b.job_id, j.status AS job_status, b.size_bytes, b.created_at, b.updated_at
FROM buckets b LEFT JOIN jobs j ON j.id = b.job_id
WHERE b.state <> 'deleted';
