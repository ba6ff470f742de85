-- skyd schema, version 10: the queue's in-progress counts read the unfinished tasks only. With
-- many finished jobs they are few, and this index holds them with their status (an index-only
-- scan instead of reading every task). Released: never edit, add 0011_*.sql.

CREATE INDEX tasks_open_idx ON tasks (job_id) INCLUDE (status) WHERE ended_at IS NULL;
