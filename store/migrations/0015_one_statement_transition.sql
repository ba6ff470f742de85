-- skyd schema, version 15: a task's transition in one statement. Each transition used to be five
-- round trips (BEGIN, lock the job, update the task and log the event, refresh the job, COMMIT);
-- at 10,000 jobs those were most of PostgreSQL's CPU in a launch or a cancel of every job, and as
-- much again in skyd's client. skyd_transition does the same steps in that order inside the
-- statement's own transaction (or the caller's), with plans kept for the connection. It returns
-- the task as it now is, or no row when the guard (status and lease epoch) does not hold, and then
-- has changed nothing. Released: never edit, add 0016_*.sql.

CREATE FUNCTION skyd_transition(
  p_job bigint, p_task integer, p_from text, p_to text, p_terminal boolean, p_lease bigint,
  p_restart boolean, p_failure text, p_exit_codes integer[], p_cluster text, p_placement jsonb,
  p_reason text, p_details jsonb, p_key text) RETURNS SETOF tasks LANGUAGE plpgsql AS $$
DECLARE
  moved tasks;
BEGIN
  -- The transitions of one job's tasks follow one another, so the refresh below sees every task
  -- as the last one left it. NO KEY UPDATE: job_events rows can still reference the job meanwhile.
  PERFORM 1 FROM jobs WHERE id = p_job FOR NO KEY UPDATE;

  UPDATE tasks t SET
    status = p_to,
    attempt = t.attempt + CASE WHEN p_to IN ('STARTING', 'RECOVERING') THEN 1 ELSE 0 END,
    started_at = CASE WHEN p_to = 'RUNNING' THEN coalesce(t.started_at, now()) ELSE t.started_at END,
    last_recovered_at = CASE WHEN p_to = 'RUNNING' THEN now() ELSE t.last_recovered_at END,
    job_duration_seconds = t.job_duration_seconds +
      CASE WHEN t.status = 'RUNNING' AND t.last_recovered_at IS NOT NULL
           THEN extract(epoch FROM now() - t.last_recovered_at)::double precision ELSE 0 END,
    recovery_count = t.recovery_count +
      CASE WHEN t.status = 'RECOVERING' AND p_to = 'RUNNING' THEN 1 ELSE 0 END,
    restart_count = t.restart_count + CASE WHEN p_restart THEN 1 ELSE 0 END,
    ended_at = CASE WHEN p_terminal THEN now() ELSE t.ended_at END,
    failure_reason = coalesce(p_failure, t.failure_reason),
    exit_codes = coalesce(p_exit_codes, t.exit_codes),
    cluster_name = coalesce(p_cluster, t.cluster_name),
    placement = coalesce(p_placement, t.placement)
  FROM jobs j
  WHERE t.job_id = p_job AND t.task_index = p_task AND t.status = p_from
    AND j.id = t.job_id AND (p_lease IS NULL OR j.lease_epoch = p_lease)
  RETURNING t.* INTO moved;
  IF NOT FOUND THEN
    RETURN;
  END IF;

  INSERT INTO job_events (job_id, task_index, from_status, to_status, reason, details,
                          idempotency_key)
  VALUES (p_job, p_task, p_from, p_to, p_reason, p_details, p_key);

  -- The job shows its first task that has not SUCCEEDED, and ends when every task has.
  UPDATE jobs j SET
    status = coalesce((SELECT status FROM tasks WHERE job_id = j.id AND status <> 'SUCCEEDED'
                       ORDER BY task_index LIMIT 1), 'SUCCEEDED'),
    ended_at = CASE WHEN EXISTS (SELECT 1 FROM tasks WHERE job_id = j.id AND ended_at IS NULL)
                    THEN NULL ELSE coalesce(j.ended_at, now()) END,
    failure_reason = coalesce(j.failure_reason, p_failure)
  WHERE j.id = p_job;

  RETURN NEXT moved;
END $$;
