-- skyd schema, version 13: the queue's totals (the number of jobs, of open jobs, and the unfinished
-- tasks by status, per user) are kept as jobs and tasks change instead of counted over every job
-- on each `sky jobs queue`. The triggers below add each change's difference to queue_counts in
-- the same transaction. Rows are only ever added, never updated, so concurrent transitions never
-- wait on a shared counter row; skyd folds them now and then into one row per user and counter,
-- and a total is the sum of its rows. And an index for a user's page of open jobs (`sky jobs queue
-- -s`), newest first. Released: never edit, add 0013_*.sql.

CREATE INDEX jobs_user_open_idx ON jobs (user_uid, id DESC) WHERE ended_at IS NULL;

CREATE TABLE queue_counts (
  user_uid bigint NOT NULL,
  -- 'jobs', 'open_jobs' (not yet ended), or a task status: that user's unfinished tasks in it.
  counter text NOT NULL,
  n bigint NOT NULL
);

-- A statement that makes jobs (a batch of 10,000 is one INSERT) counts them at once, from its
-- transition table; an update is counted per row, and only when it ends or reopens a job (the WHEN
-- is checked without calling the function), so a cancel's stamp or a lease costs nothing here.
CREATE FUNCTION queue_counts_of_new_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO queue_counts (user_uid, counter, n)
  SELECT user_uid, 'jobs', count(*) FROM new_jobs GROUP BY user_uid
  UNION ALL
  SELECT user_uid, 'open_jobs', count(*) FROM new_jobs WHERE ended_at IS NULL GROUP BY user_uid;
  RETURN NULL;
END $$;

CREATE FUNCTION queue_counts_of_changed_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO queue_counts (user_uid, counter, n)
  SELECT user_uid, counter, sum(n) FROM (VALUES
    (OLD.user_uid, 'jobs', -1), (NEW.user_uid, 'jobs', 1),
    (OLD.user_uid, 'open_jobs', CASE WHEN OLD.ended_at IS NULL THEN -1 ELSE 0 END),
    (NEW.user_uid, 'open_jobs', CASE WHEN NEW.ended_at IS NULL THEN 1 ELSE 0 END)
  ) AS d (user_uid, counter, n)
  GROUP BY user_uid, counter HAVING sum(n) <> 0;
  RETURN NULL;
END $$;

CREATE TRIGGER jobs_inserted_counts AFTER INSERT ON jobs REFERENCING NEW TABLE AS new_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_of_new_jobs();
CREATE TRIGGER jobs_updated_counts AFTER UPDATE ON jobs FOR EACH ROW
  WHEN ((OLD.ended_at IS NULL) <> (NEW.ended_at IS NULL) OR OLD.user_uid <> NEW.user_uid)
  EXECUTE FUNCTION queue_counts_of_changed_job();

-- tasks: an unfinished task counts in its status, under its job's user. New tasks are counted per
-- statement, a transition per row (one status out, one in). The user is looked up per row by
-- primary key, not joined: plpgsql keeps a trigger's first plan for the connection, and a join
-- planned for a 10,000-task submission would scan every job on each later call.
CREATE FUNCTION queue_counts_of_new_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO queue_counts (user_uid, counter, n)
  SELECT user_uid, status, count(*) FROM (
    SELECT (SELECT user_uid FROM jobs WHERE id = t.job_id) AS user_uid, t.status
    FROM new_tasks t WHERE t.ended_at IS NULL) c
  WHERE user_uid IS NOT NULL GROUP BY user_uid, status;
  RETURN NULL;
END $$;

CREATE FUNCTION queue_counts_of_changed_task() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' OR TG_OP = 'DELETE' THEN
    -- A task deleted with its job was taken off with the job (below): the lookup finds none.
    INSERT INTO queue_counts (user_uid, counter, n)
    SELECT user_uid, OLD.status, -1 FROM jobs WHERE id = OLD.job_id AND OLD.ended_at IS NULL;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO queue_counts (user_uid, counter, n)
    SELECT user_uid, NEW.status, 1 FROM jobs WHERE id = NEW.job_id AND NEW.ended_at IS NULL;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER tasks_inserted_counts AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_tasks
  FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_of_new_tasks();
CREATE TRIGGER tasks_updated_counts AFTER UPDATE ON tasks FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR (OLD.ended_at IS NULL) <> (NEW.ended_at IS NULL)
        OR OLD.job_id <> NEW.job_id)
  EXECUTE FUNCTION queue_counts_of_changed_task();
CREATE TRIGGER tasks_deleted_counts AFTER DELETE ON tasks FOR EACH ROW
  EXECUTE FUNCTION queue_counts_of_changed_task();

-- A deleted job (skyd deletes none; an operator might): its counters and its unfinished tasks',
-- taken off while its tasks are still there to be seen.
CREATE FUNCTION queue_counts_of_deleted_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO queue_counts (user_uid, counter, n)
  SELECT OLD.user_uid, 'jobs', -1
  UNION ALL
  SELECT OLD.user_uid, 'open_jobs', -1 WHERE OLD.ended_at IS NULL
  UNION ALL
  SELECT OLD.user_uid, status, -count(*) FROM tasks
  WHERE job_id = OLD.id AND ended_at IS NULL GROUP BY status;
  RETURN OLD;
END $$;

CREATE TRIGGER jobs_deleted_counts BEFORE DELETE ON jobs
  FOR EACH ROW EXECUTE FUNCTION queue_counts_of_deleted_job();

-- The counts of the jobs already there.
INSERT INTO queue_counts (user_uid, counter, n)
SELECT user_uid, 'jobs', count(*) FROM jobs GROUP BY user_uid
UNION ALL
SELECT user_uid, 'open_jobs', count(*) FROM jobs WHERE ended_at IS NULL GROUP BY user_uid
UNION ALL
SELECT j.user_uid, t.status, count(*) FROM tasks t JOIN jobs j ON j.id = t.job_id
WHERE t.ended_at IS NULL GROUP BY j.user_uid, t.status;
