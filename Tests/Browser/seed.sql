-- The browser tests' database: jobs of every status, a lock's line, 130 jobs to page through,
-- and markup where an attacker could put it.
INSERT INTO procrastinate_jobs (queue_name, task_name, args)
SELECT 'bulk', 'bulk.task', jsonb_build_object('n', n) FROM generate_series(1, 130) AS n;
INSERT INTO procrastinate_jobs (queue_name, task_name, args) VALUES ('actions', 'actions.task', '{"kind": "waiting"}');
INSERT INTO procrastinate_jobs (queue_name, task_name, args) VALUES ('actions', 'actions.task', '{"kind": "failed"}');
UPDATE procrastinate_jobs SET status = 'doing' WHERE args->>'kind' = 'failed';
UPDATE procrastinate_jobs SET status = 'failed' WHERE args->>'kind' = 'failed';
INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args)
SELECT 'emails', 'mail.send', 'user-42', jsonb_build_object('to', 'user42@example.com', 'n', n) FROM generate_series(1, 3) AS n;
UPDATE procrastinate_jobs SET status = 'doing' WHERE id = (SELECT min(id) FROM procrastinate_jobs WHERE lock = 'user-42');
INSERT INTO procrastinate_jobs (queue_name, task_name, args)
SELECT 'emails', 'mail.send', jsonb_build_object('to', 'done' || n || '@example.com') FROM generate_series(1, 40) AS n;
UPDATE procrastinate_jobs SET status = 'doing' WHERE queue_name = 'emails' AND lock IS NULL;
UPDATE procrastinate_jobs SET status = 'succeeded' WHERE queue_name = 'emails' AND lock IS NULL AND (args->>'to') NOT LIKE 'done1%';
UPDATE procrastinate_jobs SET status = 'failed' WHERE queue_name = 'emails' AND lock IS NULL AND status = 'doing';
INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args)
VALUES ('<script>alert(1)</script>', '<script>alert(1)</script>', '<script>alert(1)</script>', '{"html": "<script>alert(1)</script>"}');
-- An hour of activity for the overview: finished jobs whose events spread over the last hour,
-- each waiting a little before it started.
INSERT INTO procrastinate_jobs (queue_name, task_name, args)
SELECT CASE WHEN n % 3 = 0 THEN 'reports' ELSE 'emails' END, CASE WHEN n % 3 = 0 THEN 'report.build' ELSE 'mail.send' END,
       jsonb_build_object('hour', n)
FROM generate_series(1, 1200) AS n;
UPDATE procrastinate_jobs SET status = 'doing' WHERE args ? 'hour';
UPDATE procrastinate_jobs SET status = CASE WHEN (args->>'hour')::int % 17 = 0 THEN 'failed' ELSE 'succeeded' END::procrastinate_job_status
WHERE args ? 'hour';
UPDATE procrastinate_events SET at = at - ((job_id * 7919) % 3540) * interval '1 second'
    - CASE type WHEN 'deferred' THEN (job_id % 9 + 1) * interval '150 milliseconds' ELSE interval '0' END
WHERE job_id IN (SELECT id FROM procrastinate_jobs WHERE args ? 'hour');
