-- skyd schema, version 14: a submission can be sent again without making a second job. `sky`
-- names each launch with a key of its own making; when the answer is lost (the database away
-- for a moment, a dropped SSH connection), it asks again with the same key and gets the jobs the
-- first request made. A key belongs to its user: another user's key is simply a different key.
-- Released: never edit, add 0015_*.sql.

ALTER TABLE jobs ADD COLUMN submission_key text;

CREATE UNIQUE INDEX jobs_submission_key_idx ON jobs (user_uid, submission_key, job_rank)
  WHERE submission_key IS NOT NULL;
