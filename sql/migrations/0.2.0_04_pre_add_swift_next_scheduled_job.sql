-- Procrastinate for Swift: when the next scheduled job is due.
--
-- A worker with nothing to run asks when the earliest job it may run is scheduled (a job
-- deferred for later, or a retry's next attempt) and wakes then, instead of at its next
-- poll: RetryStrategy(wait: 1) runs the job again a second later, not at the next poll.
-- Additive only: Python workers and deferrers are unaffected (the index holds only waiting
-- jobs scheduled for later).

-- The waiting jobs scheduled for later, by time.
CREATE INDEX IF NOT EXISTS procrastinate_swift_jobs_scheduled_idx ON procrastinate_jobs (scheduled_at)
    WHERE status = 'todo' AND scheduled_at IS NOT NULL;

-- Seconds from now until the earliest waiting job of the given queues and tasks (NULL: any)
-- scheduled later than `since_seconds` ago, or NULL when there is none. The worker asks after
-- a fetch that found nothing, and passes the time since that fetch began: a job that became
-- due meanwhile answers zero or less (run it now), one due before that fetch (blocked by its
-- lock) does not count.
CREATE FUNCTION procrastinate_swift_next_scheduled_job_v1(
    target_queue_names character varying[],
    target_task_names character varying[],
    since_seconds double precision
) RETURNS double precision LANGUAGE sql STABLE AS $$
    SELECT extract(epoch FROM job.scheduled_at - now())::double precision
    FROM procrastinate_jobs AS job
    WHERE job.status = 'todo' AND job.scheduled_at IS NOT NULL
      AND job.scheduled_at > now() - make_interval(secs => since_seconds)
      AND (target_queue_names IS NULL OR job.queue_name = ANY (target_queue_names))
      AND (target_task_names IS NULL OR job.task_name = ANY (target_task_names))
    ORDER BY job.scheduled_at
    LIMIT 1
$$;

INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_04_pre_add_swift_next_scheduled_job');
