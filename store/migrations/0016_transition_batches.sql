-- skyd schema, version 16: many tasks' transitions in one statement. When thousands of jobs move
-- at once (a cancel of every job, a wave of launches), skyd sends the transitions that gathered
-- while the last statement was out as one call of skyd_transitions: each is what skyd_transition
-- (migration 0015) does for one task -- the guard on status and lease epoch, the event row, the
-- job's status and end time kept in step -- done set-wise, so PostgreSQL plans and runs each
-- step once per batch instead of once per task (at 10,000 jobs a cancel's 20,000 transitions
-- cost 10.7 CPU seconds one by one and 1.6 in batches of 100).
--
-- p_batch is a JSON array of {job, task, from, to, terminal, lease, restart, failure,
-- exit_codes, cluster, placement, reason, details, key}, at most one per task; placement and
-- details are JSON texts, read as jsonb here as skyd_transition reads its parameters. It
-- returns the tasks it moved, as they now are. A task it did not move -- its guard did not hold, or its job
-- row was locked by another writer (skipped, never waited for: a batch waits on no lock, so it
-- cannot deadlock with one) -- is not returned, and skyd writes that transition by itself with
-- skyd_transition, which waits for the lock or says what is there instead. Released: never edit,
-- add 0017_*.sql.

CREATE FUNCTION skyd_transitions(p_batch jsonb) RETURNS SETOF tasks LANGUAGE plpgsql
-- Planned once per connection: planning these statements anew for every batch cost more than
-- running them. The generic plans probe every table by primary key whatever the batch's size.
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  locked bigint[];
  moved tasks[];
BEGIN
  SELECT array_agg(id) INTO locked FROM (
    SELECT id FROM jobs
    WHERE id = ANY (ARRAY(SELECT (e->>'job')::bigint FROM jsonb_array_elements(p_batch) e))
    ORDER BY id FOR NO KEY UPDATE SKIP LOCKED) l;
  IF locked IS NULL THEN
    RETURN;
  END IF;

  WITH asked AS (
    SELECT * FROM jsonb_to_recordset(p_batch) AS r(
      job bigint, task integer, "from" text, "to" text, terminal boolean, lease bigint,
      restart boolean, failure text, exit_codes integer[], cluster text, placement text,
      reason text, details text, key text)
    WHERE r.job = ANY (locked)),
  changed AS (
    UPDATE tasks t SET
      status = a."to",
      attempt = t.attempt + CASE WHEN a."to" IN ('STARTING', 'RECOVERING') THEN 1 ELSE 0 END,
      started_at = CASE WHEN a."to" = 'RUNNING' THEN coalesce(t.started_at, now())
                        ELSE t.started_at END,
      last_recovered_at = CASE WHEN a."to" = 'RUNNING' THEN now() ELSE t.last_recovered_at END,
      job_duration_seconds = t.job_duration_seconds +
        CASE WHEN t.status = 'RUNNING' AND t.last_recovered_at IS NOT NULL
             THEN extract(epoch FROM now() - t.last_recovered_at)::double precision ELSE 0 END,
      recovery_count = t.recovery_count +
        CASE WHEN t.status = 'RECOVERING' AND a."to" = 'RUNNING' THEN 1 ELSE 0 END,
      restart_count = t.restart_count + CASE WHEN a.restart THEN 1 ELSE 0 END,
      ended_at = CASE WHEN a.terminal THEN now() ELSE t.ended_at END,
      failure_reason = coalesce(a.failure, t.failure_reason),
      exit_codes = coalesce(a.exit_codes, t.exit_codes),
      cluster_name = coalesce(a.cluster, t.cluster_name),
      placement = coalesce(a.placement::jsonb, t.placement)
    FROM asked a, jobs j
    WHERE t.job_id = a.job AND t.task_index = a.task AND t.status = a."from"
      AND j.id = t.job_id AND (a.lease IS NULL OR j.lease_epoch = a.lease)
    RETURNING t.*),
  logged AS (
    INSERT INTO job_events (job_id, task_index, from_status, to_status, reason, details,
                            idempotency_key)
    SELECT a.job, a.task, a."from", a."to", a.reason, a.details::jsonb, a.key
    FROM changed c JOIN asked a ON a.job = c.job_id AND a.task = c.task_index)
  SELECT array_agg(c) INTO moved FROM changed c;
  IF moved IS NULL THEN
    RETURN;
  END IF;

  -- Each job moved shows its first task that has not SUCCEEDED, and ends when every task has;
  -- a job with no failure yet takes the one its moved tasks gave (the lowest task's, if several).
  UPDATE jobs j SET
    status = coalesce((SELECT status FROM tasks WHERE job_id = j.id AND status <> 'SUCCEEDED'
                       ORDER BY task_index LIMIT 1), 'SUCCEEDED'),
    ended_at = CASE WHEN EXISTS (SELECT 1 FROM tasks WHERE job_id = j.id AND ended_at IS NULL)
                    THEN NULL ELSE coalesce(j.ended_at, now()) END,
    failure_reason = coalesce(j.failure_reason, f.failure)
  FROM (SELECT DISTINCT ON (m.job_id) m.job_id, a.failure
        FROM unnest(moved) m
        JOIN jsonb_to_recordset(p_batch) AS a(job bigint, task integer, failure text)
          ON a.job = m.job_id AND a.task = m.task_index
        ORDER BY m.job_id, a.failure IS NULL, m.task_index) f
  WHERE j.id = f.job_id;

  RETURN QUERY SELECT * FROM unnest(moved);
END $$;
