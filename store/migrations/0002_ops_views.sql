-- skyd schema, version 2: views for ops dashboards on cost and on status over time
-- (docs/sql-views.md). Released: never edit, add 0003_*.sql.

-- One row per task: its estimated spend so far, node price x nodes x hours RUNNING, priced at the
-- task's current placement (recoveries that moved to another price are priced at the latest).
CREATE VIEW task_costs AS
SELECT
  t.job_id,
  t.task_index,
  j.name AS job_name,
  j.user_name,
  t.status,
  t.placement ->> 'cloud' AS cloud,
  t.placement ->> 'region' AS region,
  t.placement ->> 'zone' AS zone,
  t.placement ->> 'instance_type' AS instance_type,
  coalesce((t.placement ->> 'use_spot')::boolean, false) AS use_spot,
  coalesce((t.placement ->> 'node_price')::double precision, 0) AS node_price,
  coalesce((t.placement ->> 'nodes')::integer, 1) AS nodes,
  r.running_seconds / 3600 AS running_hours,
  coalesce((t.placement ->> 'node_price')::double precision, 0) *
    coalesce((t.placement ->> 'nodes')::integer, 1) * r.running_seconds / 3600 AS cost_usd,
  j.submitted_at,
  t.ended_at
FROM jobs j
JOIN tasks t ON t.job_id = j.id
CROSS JOIN LATERAL (
  SELECT t.job_duration_seconds +
    CASE WHEN t.status = 'RUNNING' AND t.last_recovered_at IS NOT NULL
         THEN extract(epoch FROM now() - t.last_recovered_at)::double precision
         ELSE 0 END AS running_seconds
) r;

-- One row per stretch a task spent in one status: entered at a transition, left at the next
-- (NULL while it is still there). "How many tasks were RUNNING at time T" is a range query.
CREATE VIEW task_status_intervals AS
SELECT
  e.job_id,
  e.task_index,
  j.name AS job_name,
  j.user_name,
  e.to_status AS status,
  e.at AS entered_at,
  lead(e.at) OVER (PARTITION BY e.job_id, e.task_index ORDER BY e.id) AS left_at
FROM job_events e
JOIN jobs j ON j.id = e.job_id
WHERE e.task_index IS NOT NULL;
