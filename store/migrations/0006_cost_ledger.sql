-- skyd schema, version 6: the cost ledger (docs/sql-views.md). Every RUNNING transition's details
-- hold the placement it ran on with its prices (node_price in its market, on_demand_node_price,
-- nodes, launched_at), so each run is priced from the transition log itself: from the launch call
-- that made its machines to the task's next transition. Released: never edit, add 0007_*.sql.

-- One row per attempt that ran: where, in which market, for how long, what it cost and what the
-- same run would have cost on demand. Live rows (ended_at NULL) are priced up to now.
CREATE VIEW attempt_costs AS
SELECT
  r.event_id,
  r.job_id,
  r.task_index,
  j.name AS job_name,
  j.user_name,
  r.details ->> 'cloud' AS cloud,
  r.details ->> 'region' AS region,
  r.details ->> 'zone' AS zone,
  r.details ->> 'instance_type' AS instance_type,
  CASE WHEN coalesce((r.details ->> 'use_spot')::boolean, false) THEN 'spot' ELSE 'on-demand' END
    AS market,
  coalesce((r.details ->> 'nodes')::integer, 1) AS nodes,
  coalesce((r.details ->> 'node_price')::double precision, 0) AS node_price,
  coalesce((r.details ->> 'on_demand_node_price')::double precision,
           (r.details ->> 'node_price')::double precision, 0) AS on_demand_node_price,
  f.billed_from,
  r.at AS running_from,
  r.ended_at,
  r.ended_as,
  b.seconds AS billed_seconds,
  coalesce((r.details ->> 'node_price')::double precision, 0) *
    coalesce((r.details ->> 'nodes')::integer, 1) * b.seconds / 3600 AS cost_usd,
  coalesce((r.details ->> 'on_demand_node_price')::double precision,
           (r.details ->> 'node_price')::double precision, 0) *
    coalesce((r.details ->> 'nodes')::integer, 1) * b.seconds / 3600 AS on_demand_cost_usd
FROM (
  SELECT e.id AS event_id, e.job_id, e.task_index, e.at, e.details, e.to_status,
         lead(e.at) OVER w AS ended_at, lead(e.to_status) OVER w AS ended_as
  FROM job_events e
  WHERE e.task_index IS NOT NULL
  WINDOW w AS (PARTITION BY e.job_id, e.task_index ORDER BY e.id)
) r
JOIN jobs j ON j.id = r.job_id
CROSS JOIN LATERAL (
  SELECT coalesce(to_timestamp((r.details ->> 'launched_at')::double precision), r.at)
           AS billed_from
) f
CROSS JOIN LATERAL (
  SELECT greatest(extract(epoch FROM coalesce(r.ended_at, now()) - f.billed_from), 0)
           ::double precision AS seconds
) b
WHERE r.to_status = 'RUNNING';

-- One row per job: what it spent, by market, and what the same runs would have cost on demand.
CREATE VIEW job_costs AS
SELECT
  j.id AS job_id,
  j.name AS job_name,
  j.user_name,
  j.status,
  count(c.event_id) AS attempts_run,
  coalesce(sum(c.cost_usd), 0) AS cost_usd,
  coalesce(sum(c.cost_usd) FILTER (WHERE c.market = 'spot'), 0) AS spot_cost_usd,
  coalesce(sum(c.cost_usd) FILTER (WHERE c.market = 'on-demand'), 0) AS on_demand_market_cost_usd,
  coalesce(sum(c.on_demand_cost_usd), 0) AS on_demand_equivalent_usd,
  coalesce(sum(c.on_demand_cost_usd), 0) - coalesce(sum(c.cost_usd), 0) AS saved_usd
FROM jobs j
LEFT JOIN attempt_costs c ON c.job_id = j.id
GROUP BY j.id, j.name, j.user_name, j.status;
