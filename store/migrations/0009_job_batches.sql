-- skyd schema, version 9: `sky jobs launch --num-jobs N` makes N jobs of one task in one call; each
-- knows its rank among them (SKYPILOT_JOB_RANK) and how many there are (SKYPILOT_NUM_JOBS). A job
-- submitted alone is rank 0 of 1. Released: never edit, add 0010_*.sql.

ALTER TABLE jobs
  ADD COLUMN job_rank integer NOT NULL DEFAULT 0,
  ADD COLUMN num_jobs integer NOT NULL DEFAULT 1 CHECK (num_jobs >= 1),
  ADD CONSTRAINT jobs_rank_in_batch CHECK (job_rank >= 0 AND job_rank < num_jobs);
