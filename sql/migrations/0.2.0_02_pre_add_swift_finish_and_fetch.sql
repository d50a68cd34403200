-- Faster batched functions, and finishing and fetching in one round trip, for Procrastinate
-- for Swift workers.
--
-- Additive (a "pre" migration): the Procrastinate 3.10 objects are untouched, so Python
-- workers keep working beside ours. It replaces the two functions of 0.2.0_01 (their plans
-- are now generic, the fetch skips rows another fetch is claiming before its limit) and adds
-- procrastinate_swift_finish_jobs_and_fetch_v1.

-- Claims up to p_limit runnable jobs for a worker in one statement, with the semantics of
-- procrastinate_fetch_job_v2 called p_limit times: todo, in the queues (NULL: any), due,
-- highest priority then lowest id, rows locked by others skipped; a job with a lock only when
-- it heads its lock's queue (across all queues and schedules) and no job of that lock runs,
-- so a batch holds at most one job per lock.
--
-- The claim commits without waiting for the WAL flush: a crash can only forget that jobs were
-- claimed (they wait again), never an outcome, since finishing commits durably and flushes
-- the claim with it.
--
-- Its plan is generic, made once per session: left to choose, PostgreSQL planned the query
-- anew at every call (0.3 ms, four times the run). JIT is off: the generic plan's estimated
-- cost grows with the table, and past jit_above_cost each call spent ~10 ms compiling.
CREATE OR REPLACE FUNCTION procrastinate_swift_fetch_jobs_v1(
    target_queue_names character varying[],
    p_worker_id bigint,
    p_limit integer
) RETURNS SETOF procrastinate_jobs LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET jit = off AS $$
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
    ), unlocked AS (
        -- Rows another fetch is claiming are skipped before the limit, so that concurrent
        -- fetches take the next jobs instead of coming back empty.
        SELECT job.id, job.priority FROM procrastinate_jobs AS job
        WHERE job.status = 'todo' AND job.lock IS NULL
          AND (target_queue_names IS NULL OR job.queue_name = ANY (target_queue_names))
          AND (job.scheduled_at IS NULL OR job.scheduled_at <= now())
        ORDER BY job.priority DESC, job.id ASC
        LIMIT p_limit
        FOR UPDATE OF job SKIP LOCKED
    ), candidates AS (
        SELECT heads.id, heads.priority FROM heads
        WHERE (target_queue_names IS NULL OR heads.queue_name = ANY (target_queue_names))
          AND (heads.scheduled_at IS NULL OR heads.scheduled_at <= now())
        UNION ALL
        SELECT unlocked.id, unlocked.priority FROM unlocked
    ), claimed AS (
        -- Ids go through arrays, so that the cached generic plan (which cannot know p_limit)
        -- looks them up by primary key rather than hashing a scan of the whole table.
        SELECT job.id FROM procrastinate_jobs AS job
        WHERE job.id = ANY (ARRAY(SELECT candidates.id FROM candidates ORDER BY candidates.priority DESC, candidates.id ASC LIMIT p_limit))
          AND job.status = 'todo'
        ORDER BY job.priority DESC, job.id ASC
        FOR UPDATE OF job SKIP LOCKED
    ), started AS (
        UPDATE procrastinate_jobs AS job
        SET status = 'doing', worker_id = p_worker_id
        WHERE job.id = ANY (ARRAY(SELECT claimed.id FROM claimed))
        RETURNING job.*
    )
    SELECT * FROM started ORDER BY started.priority DESC, started.id ASC;
END;
$$;

-- Records the outcomes of several jobs in one statement, with the rows and events of
-- procrastinate_finish_job_v1 for each; returns the ids of the jobs finished (a job no longer
-- running or waiting is left alone). Its plan is generic too (replanning cost 0.12 ms a call).
CREATE OR REPLACE FUNCTION procrastinate_swift_finish_jobs_v1(
    job_ids bigint[],
    end_statuses procrastinate_job_status[],
    delete_jobs boolean[]
) RETURNS SETOF bigint LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
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

-- Records outcomes as procrastinate_swift_finish_jobs_v1 does, then claims up to p_limit jobs
-- as procrastinate_swift_fetch_jobs_v1 does, in one transaction: a worker hands the slots of
-- finished locked jobs straight to the next jobs (the next job of a lock becomes claimable
-- in the same statement), saving a round trip per job of a lock. The commit is durable, as
-- the outcomes need. Returns the claimed jobs, then one row per outcome left alone (a job no
-- longer running or waiting) holding only its id (its status is NULL).
CREATE FUNCTION procrastinate_swift_finish_jobs_and_fetch_v1(
    job_ids bigint[],
    end_statuses procrastinate_job_status[],
    delete_jobs boolean[],
    target_queue_names character varying[],
    p_worker_id bigint,
    p_limit integer
) RETURNS SETOF procrastinate_jobs LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    durability text := current_setting('synchronous_commit');
    finished bigint[];
BEGIN
    finished := ARRAY(SELECT procrastinate_swift_finish_jobs_v1(job_ids, end_statuses, delete_jobs));
    RETURN QUERY SELECT * FROM procrastinate_swift_fetch_jobs_v1(target_queue_names, p_worker_id, p_limit);
    -- The fetch commits without waiting for the WAL flush; these outcomes must not.
    PERFORM set_config('synchronous_commit', durability, true);
    RETURN QUERY
    SELECT (jsonb_populate_record(NULL::procrastinate_jobs, jsonb_build_object('id', given.id))).*
    FROM unnest(job_ids) AS given(id)
    WHERE given.id <> ALL (finished);
END;
$$;

INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_02_pre_add_swift_finish_and_fetch');
