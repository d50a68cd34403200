-- Batched fetching and finishing for Procrastinate for Swift workers.
--
-- Additive (a "pre" migration): the Procrastinate 3.10 objects are untouched, so Python
-- workers keep working beside ours.

-- Which of our migrations a database has.
CREATE TABLE IF NOT EXISTS procrastinate_swift_migrations (
    name character varying(255) PRIMARY KEY,
    applied_at timestamp with time zone NOT NULL DEFAULT now()
);

-- The head of each lock's queue (highest priority, then oldest) without scanning its backlog.
CREATE INDEX procrastinate_swift_jobs_lock_head_idx_v1 ON procrastinate_jobs (lock, priority DESC, id ASC)
    WHERE status = 'todo'::procrastinate_job_status AND lock IS NOT NULL;

-- The next jobs without a lock, without walking past waiting locked jobs.
CREATE INDEX procrastinate_swift_jobs_unlocked_idx_v1 ON procrastinate_jobs (priority DESC, id ASC)
    WHERE status = 'todo'::procrastinate_job_status AND lock IS NULL;

-- Claims up to p_limit runnable jobs for a worker in one statement, with the semantics of
-- procrastinate_fetch_job_v2 called p_limit times: todo, in the queues (NULL: any), due,
-- highest priority then lowest id, rows locked by others skipped; a job with a lock only when
-- it heads its lock's queue (across all queues and schedules) and no job of that lock runs,
-- so a batch holds at most one job per lock.
--
-- The claim commits without waiting for the WAL flush: a crash can only forget that jobs were
-- claimed (they wait again), never an outcome, since finishing commits durably and flushes
-- the claim with it.
CREATE FUNCTION procrastinate_swift_fetch_jobs_v1(
    target_queue_names character varying[],
    p_worker_id bigint,
    p_limit integer
) RETURNS SETOF procrastinate_jobs LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    RETURN QUERY
    WITH RECURSIVE locks AS (
        -- Every lock with waiting jobs, by a skip scan of the lock-head index.
        (SELECT job.lock FROM procrastinate_jobs AS job
         WHERE job.status = 'todo' AND job.lock IS NOT NULL ORDER BY job.lock LIMIT 1)
        UNION ALL
        SELECT (SELECT job.lock FROM procrastinate_jobs AS job
                WHERE job.status = 'todo' AND job.lock IS NOT NULL AND job.lock > locks.lock
                ORDER BY job.lock LIMIT 1)
        FROM locks WHERE locks.lock IS NOT NULL
    ), heads AS (
        SELECT head.id, head.priority, head.queue_name, head.scheduled_at
        FROM locks
        CROSS JOIN LATERAL (
            SELECT job.id, job.priority, job.queue_name, job.scheduled_at FROM procrastinate_jobs AS job
            WHERE job.status = 'todo' AND job.lock = locks.lock
            ORDER BY job.priority DESC, job.id ASC LIMIT 1
        ) AS head
        WHERE locks.lock IS NOT NULL
          AND NOT EXISTS (SELECT FROM procrastinate_jobs AS running WHERE running.lock = locks.lock AND running.status = 'doing')
    ), candidates AS (
        (SELECT heads.id, heads.priority FROM heads
         WHERE (target_queue_names IS NULL OR heads.queue_name = ANY (target_queue_names))
           AND (heads.scheduled_at IS NULL OR heads.scheduled_at <= now()))
        UNION ALL
        (SELECT job.id, job.priority FROM procrastinate_jobs AS job
         WHERE job.status = 'todo' AND job.lock IS NULL
           AND (target_queue_names IS NULL OR job.queue_name = ANY (target_queue_names))
           AND (job.scheduled_at IS NULL OR job.scheduled_at <= now())
         ORDER BY job.priority DESC, job.id ASC
         LIMIT p_limit)
    ), claimed AS (
        SELECT job.id FROM procrastinate_jobs AS job
        WHERE job.id IN (SELECT candidates.id FROM candidates ORDER BY candidates.priority DESC, candidates.id ASC LIMIT p_limit)
          AND job.status = 'todo'
        ORDER BY job.priority DESC, job.id ASC
        FOR UPDATE OF job SKIP LOCKED
    )
    UPDATE procrastinate_jobs AS job
    SET status = 'doing', worker_id = p_worker_id
    FROM claimed
    WHERE job.id = claimed.id
    RETURNING job.*;
END;
$$;

-- Records the outcomes of several jobs in one statement, with the rows and events of
-- procrastinate_finish_job_v1 for each; returns the ids of the jobs finished (a job no longer
-- running or waiting is left alone).
CREATE FUNCTION procrastinate_swift_finish_jobs_v1(
    job_ids bigint[],
    end_statuses procrastinate_job_status[],
    delete_jobs boolean[]
) RETURNS SETOF bigint LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM unnest(end_statuses) AS given(status) WHERE given.status NOT IN ('succeeded', 'failed', 'aborted')) THEN
        RAISE 'End status should be either "succeeded", "failed" or "aborted"';
    END IF;

    RETURN QUERY
    WITH given AS (
        SELECT * FROM unnest(job_ids, end_statuses, delete_jobs) AS given(id, status, delete_job)
    ), deleted AS (
        DELETE FROM procrastinate_jobs AS job
        USING given
        WHERE job.id = given.id AND given.delete_job AND job.status IN ('todo', 'doing')
        RETURNING job.id
    ), updated AS (
        UPDATE procrastinate_jobs AS job
        SET status = given.status,
            abort_requested = false,
            attempts = job.attempts + (CASE WHEN job.status = 'doing' THEN 1 ELSE 0 END)
        FROM given
        WHERE job.id = given.id AND NOT given.delete_job AND job.status IN ('todo', 'doing')
        RETURNING job.id
    )
    SELECT deleted.id FROM deleted
    UNION ALL
    SELECT updated.id FROM updated;
END;
$$;

INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_01_pre_add_swift_batched_fetch_and_finish');
