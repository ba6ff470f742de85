-- skyd schema, version 3: the installation's identity, and every create call's idempotency token
-- written before the call is made. Released: never edit, add 0004_*.sql.

-- One row: the identity every skyd on this database tags its machines and tokens with, so two
-- installations in one cloud account never share a token or sweep each other's machines.
CREATE TABLE installation (
  id text PRIMARY KEY CHECK (id ~ '^[a-z0-9-]{4,32}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  only_row boolean NOT NULL DEFAULT true UNIQUE CHECK (only_row)
);
-- A database that already holds jobs keeps the identity its machines were tagged with.
INSERT INTO installation (id)
SELECT CASE WHEN EXISTS (SELECT 1 FROM jobs) THEN 'skyd'
            ELSE 'skyd-' || substr(md5(gen_random_uuid()::text), 1, 12) END;

-- One row per create call (EC2 RunInstances, a local cluster): its token, written before the call,
-- and what came of it. A row still 'sent' after a crash or a lost answer is resolved (the same
-- call, same token, same parameters: it returns what the token made) before anything else.
CREATE TABLE launch_requests (
  job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  task_index integer NOT NULL,
  attempt integer NOT NULL,
  seq integer NOT NULL CHECK (seq > 0),
  token text NOT NULL UNIQUE,
  cluster_name text NOT NULL,
  candidate jsonb NOT NULL,  -- cloud, region, zone, instance_type, use_spot, ...
  outcome text NOT NULL DEFAULT 'sent' CHECK (outcome IN ('sent', 'launched', 'failed', 'lost')),
  detail text,
  sent_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz,
  PRIMARY KEY (job_id, task_index, attempt, seq)
);
