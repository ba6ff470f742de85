-- skyd schema, version 1: jobs, their pipeline tasks, the transition log, clusters and instances,
-- and the views for ops dashboards (docs/sql-views.md). Released: never edit, add 0002_*.sql.

CREATE TABLE jobs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  user_uid bigint NOT NULL,
  user_name text NOT NULL,
  priority integer NOT NULL DEFAULT 500,
  submitted_at timestamptz NOT NULL DEFAULT now(),
  spec jsonb NOT NULL,
  task_count integer NOT NULL CHECK (task_count > 0),
  -- The status of the first task that has not SUCCEEDED (SUCCEEDED when none), kept in step
  -- with tasks by the same transaction that changes a task.
  status text NOT NULL DEFAULT 'PENDING',
  ended_at timestamptz,
  failure_reason text,
  -- Lease for several controllers sharing one database: writes are fenced by lease_epoch.
  lease_owner text,
  lease_epoch bigint NOT NULL DEFAULT 0,
  lease_expires_at timestamptz
);

CREATE TABLE tasks (
  job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  task_index integer NOT NULL CHECK (task_index >= 0),
  name text NOT NULL,
  status text NOT NULL DEFAULT 'PENDING' CHECK (status IN (
    'PENDING', 'STARTING', 'RUNNING', 'RECOVERING', 'CANCELLING', 'SUCCEEDED', 'CANCELLED',
    'FAILED', 'FAILED_SETUP', 'FAILED_PRECHECKS', 'FAILED_NO_RESOURCE', 'FAILED_CONTROLLER')),
  resources text NOT NULL DEFAULT '',  -- as requested, e.g. 1x[V100:1][Spot]
  placement jsonb,                     -- as chosen: cloud, region, zone, instance_type, market
  cluster_name text,
  submitted_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,              -- first RUNNING
  ended_at timestamptz,                -- terminal status reached
  last_recovered_at timestamptz,       -- start of the current RUNNING stretch
  job_duration_seconds double precision NOT NULL DEFAULT 0,  -- RUNNING time before that stretch
  recovery_count integer NOT NULL DEFAULT 0,
  restart_count integer NOT NULL DEFAULT 0,  -- restarts after user-code errors
  failure_reason text,
  exit_codes integer[],
  attempt integer NOT NULL DEFAULT 0,  -- launch attempts so far (each STARTING or RECOVERING)
  PRIMARY KEY (job_id, task_index)
);

-- Append-only: one row per status change (and one per task at submission, from_status NULL).
CREATE TABLE job_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  task_index integer,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  from_status text,
  to_status text NOT NULL,
  reason text NOT NULL DEFAULT '',
  details jsonb NOT NULL DEFAULT '{}',
  -- Set by callers that retry a transition: a retry whose first try committed finds it here.
  idempotency_key text
);

CREATE FUNCTION job_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'job_events is append-only';
END;
$$;
CREATE TRIGGER job_events_no_update BEFORE UPDATE ON job_events
  FOR EACH ROW EXECUTE FUNCTION job_events_append_only();

CREATE TABLE clusters (
  name text PRIMARY KEY,  -- <task>-<job_id>, stable across recoveries
  job_id bigint REFERENCES jobs (id) ON DELETE SET NULL,
  task_index integer,
  provider text NOT NULL,
  region text,
  zone text,
  instance_type text,
  market text CHECK (market IN ('spot', 'on-demand')),
  num_nodes integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  terminated_at timestamptz
);

CREATE TABLE instances (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  cluster_name text NOT NULL REFERENCES clusters (name) ON DELETE CASCADE,
  job_id bigint REFERENCES jobs (id) ON DELETE SET NULL,
  task_index integer,
  attempt integer NOT NULL,
  node_rank integer NOT NULL DEFAULT 0,
  provider text NOT NULL,
  provider_instance_id text,  -- NULL until the provider answers
  region text NOT NULL,
  zone text,
  instance_type text,
  market text NOT NULL CHECK (market IN ('spot', 'on-demand')),
  idempotency_token text NOT NULL UNIQUE,  -- stored before the create call (EC2 ClientToken)
  requested_at timestamptz NOT NULL DEFAULT now(),
  launched_at timestamptz,
  terminated_at timestamptz,
  termination_reason text,  -- e.g. preempted, job ended, orphan sweep
  UNIQUE (provider, provider_instance_id)
);

-- The queue: newest first, by status, by name, by user; open jobs for reconciliation at start.
CREATE INDEX jobs_submitted_idx ON jobs (submitted_at DESC, id DESC);
CREATE INDEX jobs_status_idx ON jobs (status, id DESC);
CREATE INDEX jobs_name_idx ON jobs (name, id DESC);
CREATE INDEX jobs_user_idx ON jobs (user_uid, id DESC);
CREATE INDEX jobs_open_idx ON jobs (id) WHERE ended_at IS NULL;
CREATE INDEX tasks_status_idx ON tasks (status);
CREATE INDEX job_events_job_idx ON job_events (job_id, id);
CREATE INDEX job_events_at_idx ON job_events (at);
CREATE UNIQUE INDEX job_events_idempotency_idx ON job_events (idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX instances_cluster_idx ON instances (cluster_name);
CREATE INDEX instances_live_idx ON instances (provider, region) WHERE terminated_at IS NULL;

-- Views: a public contract with ops dashboards (docs/sql-views.md). Change only by adding
-- columns in a later migration.

-- One row per task, as `sky jobs queue` shows it.
CREATE VIEW managed_jobs AS
SELECT
  j.id AS job_id,
  t.task_index,
  j.name AS job_name,
  t.name AS task_name,
  j.user_uid,
  j.user_name,
  j.priority,
  t.status,
  j.status AS job_status,
  t.resources,
  t.placement ->> 'cloud' AS cloud,
  t.placement ->> 'region' AS region,
  t.placement ->> 'zone' AS zone,
  t.cluster_name,
  j.submitted_at,
  t.started_at,
  t.ended_at,
  coalesce(t.ended_at, now()) - j.submitted_at AS total_duration,
  make_interval(secs => t.job_duration_seconds +
    CASE WHEN t.status = 'RUNNING' AND t.last_recovered_at IS NOT NULL
         THEN extract(epoch FROM now() - t.last_recovered_at)::double precision
         ELSE 0 END) AS job_duration,
  t.recovery_count,
  t.restart_count,
  t.attempt,
  t.exit_codes,
  coalesce(t.failure_reason, j.failure_reason) AS failure_reason
FROM jobs j
JOIN tasks t ON t.job_id = j.id;

-- Every status change, with the time spent in the status it left.
CREATE VIEW job_transitions AS
SELECT
  e.id AS event_id,
  e.job_id,
  e.task_index,
  j.name AS job_name,
  j.user_name,
  e.at,
  e.from_status,
  e.to_status,
  e.reason,
  e.details,
  e.at - lag(e.at) OVER (PARTITION BY e.job_id, e.task_index ORDER BY e.id) AS time_in_from_status
FROM job_events e
JOIN jobs j ON j.id = e.job_id;

-- Each recovery (RUNNING -> RECOVERING) with where it happened and how long it took to be
-- RUNNING again (NULL while still recovering, or when the task never ran again).
CREATE VIEW recoveries AS
SELECT
  e.id AS event_id,
  e.job_id,
  e.task_index,
  e.at AS recovery_started_at,
  e.reason,
  coalesce(e.details ->> 'cloud', t.placement ->> 'cloud') AS cloud,
  coalesce(e.details ->> 'region', t.placement ->> 'region') AS region,
  coalesce(e.details ->> 'zone', t.placement ->> 'zone') AS zone,
  CASE WHEN next_exit.to_status = 'RUNNING' THEN next_exit.at END AS recovered_at,
  CASE WHEN next_exit.to_status = 'RUNNING' THEN next_exit.at - e.at END AS time_to_recover
FROM job_events e
JOIN tasks t ON t.job_id = e.job_id AND t.task_index = e.task_index
LEFT JOIN LATERAL (
  SELECT n.at, n.to_status
  FROM job_events n
  WHERE n.job_id = e.job_id AND n.task_index = e.task_index AND n.id > e.id
    AND n.from_status = 'RECOVERING' AND n.to_status <> 'PENDING'
  ORDER BY n.id
  LIMIT 1
) next_exit ON true
WHERE e.from_status = 'RUNNING' AND e.to_status = 'RECOVERING';

CREATE VIEW recoveries_by_zone AS
SELECT
  cloud,
  region,
  zone,
  count(*) AS recoveries,
  count(recovered_at) AS recovered,
  avg(time_to_recover) AS avg_time_to_recover,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM time_to_recover))
    AS p50_seconds_to_recover,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM time_to_recover))
    AS p95_seconds_to_recover,
  max(recovery_started_at) AS last_recovery_at
FROM recoveries
GROUP BY cloud, region, zone;
