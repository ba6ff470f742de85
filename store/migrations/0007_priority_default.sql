-- skyd schema, version 7: a job submitted without a priority gets SkyPilot's default, 0 (its
-- range is -1000..1000; skyd's default was 500). Jobs already stored keep the priority they have.
-- Released: never edit, add 0008_*.sql.

ALTER TABLE jobs
  ALTER COLUMN priority SET DEFAULT 0;
