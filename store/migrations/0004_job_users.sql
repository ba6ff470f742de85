-- skyd schema, version 4: the groups a job's submitter had on the socket, so the job runs with
-- exactly that identity. Released: never edit, add 0005_*.sql.

ALTER TABLE jobs
  ADD COLUMN user_gid bigint,                 -- primary group (SO_PEERCRED)
  ADD COLUMN user_groups bigint[] NOT NULL DEFAULT '{}';  -- supplementary groups (SO_PEERGROUPS)
