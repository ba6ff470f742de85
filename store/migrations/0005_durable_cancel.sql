-- skyd schema, version 5: a user's cancel is written before it is answered, so a job whose skyd
-- dies before the job acts on it is still cancelled after the restart. Released: never edit, add
-- 0006_*.sql.

ALTER TABLE jobs
  ADD COLUMN cancel_requested_at timestamptz;  -- set once, by the first accepted cancel
