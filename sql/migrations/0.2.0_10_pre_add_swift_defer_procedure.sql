-- Procrastinate for Swift: a defer acknowledged in one round trip, once durable.
--
-- Additive only: Python deferrers and workers are unaffected.

-- procrastinate_defer_jobs_v1 for jobs given column by column, in a procedure that commits
-- before it answers (CALL it outside a transaction block): a defer is acknowledged only once
-- its jobs are durable, in one round trip instead of three (BEGIN, the insert, COMMIT). Returns
-- the jobs' ids in the order given. Deferring inside a caller's own transaction calls
-- procrastinate_defer_jobs_v1 itself.
CREATE PROCEDURE procrastinate_swift_defer_jobs_v1(
    queue_names character varying[],
    task_names character varying[],
    priorities integer[],
    locks text[],
    queueing_locks text[],
    args text[],
    scheduled_ats timestamp with time zone[],
    INOUT ids bigint[] DEFAULT NULL
) LANGUAGE plpgsql AS $$
BEGIN
    ids := procrastinate_defer_jobs_v1(ARRAY(
        SELECT ROW(job.queue_name, job.task_name, job.priority, job.lock, job.queueing_lock, job.args::jsonb, job.scheduled_at)::procrastinate_job_to_defer_v1
        FROM unnest(queue_names, task_names, priorities, locks, queueing_locks, args, scheduled_ats)
            WITH ORDINALITY AS job(queue_name, task_name, priority, lock, queueing_lock, args, scheduled_at, position)
        ORDER BY job.position
    ));
    COMMIT;
END;
$$;

INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_10_pre_add_swift_defer_procedure');
