-- skyd schema, version 12: the checkpoints a task reports through skylet ($SKYPILOT_PROGRESS_FILE,
-- docs/deadline-policy.md): one row per change of the reported work, written before the deadline
-- policy uses it, so a restarted skyd plans with it too. Released: never edit, add 0013_*.sql.

CREATE TABLE progress_reports (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  task_index integer NOT NULL,
  attempt integer NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  work_seconds bigint NOT NULL CHECK (work_seconds >= 0)
);
CREATE INDEX progress_reports_job_idx ON progress_reports (job_id, id);

CREATE FUNCTION progress_reports_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'progress_reports is append-only';
END;
$$;
CREATE TRIGGER progress_reports_no_update BEFORE UPDATE ON progress_reports
  FOR EACH ROW EXECUTE FUNCTION progress_reports_append_only();
