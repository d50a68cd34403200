-- Worker leases: liveness decided by a worker's own heartbeat, fenced outcomes, re-registration
-- and claims limited to the tasks a worker knows.
--
-- Additive (a "pre" migration): the Procrastinate 3.10 objects are untouched, so Python
-- workers keep working beside ours, and the functions of earlier migrations stay for workers
-- of the previous release during a rolling deployment.
--
-- * procrastinate_swift_orphaned_jobs keeps, for a running job whose worker's row is deleted
--   (pruned by any worker, Swift or Python, or unregistered), that worker and its last
--   heartbeat: the FOREIGN KEY sets the job's worker_id to NULL, which 3.10 reads as "stalled
--   at once". Recovery now waits for the threshold since that worker's last sign of life.
-- * procrastinate_swift_heartbeat_v1 re-registers a pruned worker under its own id and takes
--   its running jobs back, and tells it which of its jobs were taken from it meanwhile.
-- * The attempts a job had when it was claimed fence its outcome: a worker that comes back
--   after its job was recovered (and claimed again) cannot record over the new attempt.

-- Running jobs whose worker's row was deleted: which worker ran them, and its last heartbeat.
CREATE TABLE procrastinate_swift_orphaned_jobs (
    job_id bigint PRIMARY KEY REFERENCES procrastinate_jobs (id) ON DELETE CASCADE,
    worker_id bigint NOT NULL,
    last_heartbeat timestamp with time zone NOT NULL
);

-- What each of our workers claims: its queues and its tasks (NULL: all).
CREATE TABLE procrastinate_swift_workers (
    worker_id bigint PRIMARY KEY REFERENCES procrastinate_workers (id) ON DELETE CASCADE,
    name character varying NOT NULL,
    queues character varying[],
    task_names character varying[]
);

-- Before a worker's row goes, remember its running jobs with its last heartbeat.
CREATE FUNCTION procrastinate_swift_record_orphaned_jobs_v1()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO procrastinate_swift_orphaned_jobs (job_id, worker_id, last_heartbeat)
    SELECT job.id, OLD.id, OLD.last_heartbeat
    FROM procrastinate_jobs AS job
    WHERE job.worker_id = OLD.id AND job.status = 'doing'
    ON CONFLICT (job_id) DO UPDATE SET worker_id = EXCLUDED.worker_id, last_heartbeat = EXCLUDED.last_heartbeat;
    RETURN OLD;
END;
$$;

CREATE TRIGGER procrastinate_swift_record_orphaned_jobs_v1
    BEFORE DELETE ON procrastinate_workers
    FOR EACH ROW
    EXECUTE PROCEDURE procrastinate_swift_record_orphaned_jobs_v1();

-- The worker a running job belongs to, and that worker's last sign of life: its heartbeat, or
-- for a job whose worker's row was deleted, the heartbeat it had then. A job without either
-- (claimed without a worker, or orphaned before this migration) has none: it counts as stalled.
CREATE FUNCTION procrastinate_swift_job_owner_v1(p_job_id bigint, p_worker_id bigint)
RETURNS TABLE(worker_id bigint, last_heartbeat timestamp with time zone) LANGUAGE sql STABLE AS $$
    SELECT worker.id, worker.last_heartbeat FROM procrastinate_workers AS worker
    WHERE p_worker_id IS NOT NULL AND worker.id = p_worker_id
    UNION ALL
    SELECT orphan.worker_id, orphan.last_heartbeat FROM procrastinate_swift_orphaned_jobs AS orphan
    WHERE p_worker_id IS NULL AND orphan.job_id = p_job_id
$$;

-- Running jobs whose worker has given no sign of life for seconds_since_heartbeat (the one
-- rule of stalled jobs, for recovery and for listings), of a queue and a task if given, never
-- those of worker p_excluded_worker_id (a worker does not recover its own jobs).
CREATE FUNCTION procrastinate_swift_stalled_jobs_v1(
    seconds_since_heartbeat double precision,
    p_queue_name character varying,
    p_task_name character varying,
    p_excluded_worker_id bigint
) RETURNS SETOF procrastinate_jobs LANGUAGE sql STABLE AS $$
    SELECT job.* FROM procrastinate_jobs AS job
    LEFT JOIN LATERAL procrastinate_swift_job_owner_v1(job.id, job.worker_id) AS owner ON true
    WHERE job.status = 'doing'
      AND (p_queue_name IS NULL OR job.queue_name = p_queue_name)
      AND (p_task_name IS NULL OR job.task_name = p_task_name)
      AND COALESCE(owner.last_heartbeat, '-infinity') < now() - make_interval(secs => seconds_since_heartbeat)
      AND (p_excluded_worker_id IS NULL OR owner.worker_id IS DISTINCT FROM p_excluded_worker_id)
    ORDER BY job.id
$$;

-- Retries (retry_at given) or fails (retry_at NULL) job p_job_id if it is still stalled, still
-- in the attempt the caller saw, and not being recovered by another worker; returns whether it
-- did. Retrying counts an attempt, as procrastinate_retry_job_v2 does.
CREATE FUNCTION procrastinate_swift_recover_stalled_job_v1(
    p_job_id bigint,
    p_attempts integer,
    seconds_since_heartbeat double precision,
    p_excluded_worker_id bigint,
    retry_at timestamp with time zone,
    new_priority integer,
    new_queue_name character varying,
    new_lock character varying
) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    stalled_id bigint;
BEGIN
    SELECT job.id INTO stalled_id
    FROM procrastinate_jobs AS job
    WHERE job.id = p_job_id AND job.attempts = p_attempts
      AND job.id IN (SELECT stalled.id FROM procrastinate_swift_stalled_jobs_v1(
          seconds_since_heartbeat, NULL, NULL, p_excluded_worker_id) AS stalled WHERE stalled.id = p_job_id)
    FOR UPDATE OF job SKIP LOCKED;
    IF stalled_id IS NULL THEN
        RETURN false;
    END IF;
    IF retry_at IS NULL THEN
        PERFORM procrastinate_finish_job_v1(stalled_id, 'failed', false);
    ELSE
        PERFORM procrastinate_retry_job_v2(stalled_id, retry_at, new_priority, new_queue_name, new_lock);
    END IF;
    DELETE FROM procrastinate_swift_orphaned_jobs WHERE job_id = stalled_id;
    RETURN true;
END;
$$;

-- Registers one of our workers: its row in procrastinate_workers and what it claims.
CREATE FUNCTION procrastinate_swift_register_worker_v1(
    p_name character varying,
    p_queues character varying[],
    p_task_names character varying[]
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
BEGIN
    INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id INTO new_id;
    INSERT INTO procrastinate_swift_workers (worker_id, name, queues, task_names)
    VALUES (new_id, p_name, p_queues, p_task_names);
    RETURN new_id;
END;
$$;

-- A worker's heartbeat. A worker whose row was deleted (pruned while it was paused or cut off)
-- is registered again under the same id. The jobs it holds (job_ids, claimed in the attempts
-- job_attempts) that lost their worker are taken back. Returns whether it was registered again,
-- and the jobs it holds that are no longer its own (recovered, finished or claimed by another
-- worker since): the worker must stop them and not record their outcomes; and the jobs put
-- back in the queue because they were claimed for it but never reached it.
CREATE FUNCTION procrastinate_swift_heartbeat_v1(
    p_worker_id bigint,
    job_ids bigint[],
    job_attempts integer[],
    p_name character varying,
    p_queues character varying[],
    p_task_names character varying[],
    stray_grace_seconds double precision
) RETURNS TABLE(registered_again boolean, lost_job_ids bigint[], released_job_ids bigint[]) LANGUAGE plpgsql AS $$
BEGIN
    UPDATE procrastinate_workers AS worker SET last_heartbeat = now() WHERE worker.id = p_worker_id;
    registered_again := NOT FOUND;
    IF registered_again THEN
        INSERT INTO procrastinate_workers (id, last_heartbeat) OVERRIDING SYSTEM VALUE
        VALUES (p_worker_id, now()) ON CONFLICT DO NOTHING;
        INSERT INTO procrastinate_swift_workers (worker_id, name, queues, task_names)
        VALUES (p_worker_id, p_name, p_queues, p_task_names) ON CONFLICT DO NOTHING;
    END IF;

    WITH held AS (
        SELECT * FROM unnest(job_ids, job_attempts) AS given(id, attempts)
    ), taken_back AS (
        UPDATE procrastinate_jobs AS job SET worker_id = p_worker_id
        FROM held
        WHERE job.id = held.id AND job.attempts = held.attempts AND job.status = 'doing' AND job.worker_id IS NULL
          AND EXISTS (SELECT FROM procrastinate_swift_orphaned_jobs AS orphan
                      WHERE orphan.job_id = job.id AND orphan.worker_id = p_worker_id)
        RETURNING job.id
    )
    DELETE FROM procrastinate_swift_orphaned_jobs AS orphan USING taken_back WHERE orphan.job_id = taken_back.id;

    lost_job_ids := ARRAY(
        SELECT held.id FROM unnest(job_ids, job_attempts) AS held(id, attempts)
        LEFT JOIN procrastinate_jobs AS job ON job.id = held.id
        WHERE job.id IS NULL OR job.status <> 'doing' OR job.attempts <> held.attempts
           OR job.worker_id IS DISTINCT FROM p_worker_id
        ORDER BY held.id
    );

    -- Claimed for this worker, yet not held: a claim whose answer never reached it (the
    -- connection dropped after the commit). Back to the queue once older than any claim in
    -- flight could be, without counting an attempt (they never ran).
    WITH released AS (
        UPDATE procrastinate_jobs AS job SET status = 'todo', worker_id = NULL
        WHERE job.worker_id = p_worker_id AND job.status = 'doing' AND job.id <> ALL (job_ids)
          AND COALESCE((SELECT max(event.at) FROM procrastinate_events AS event
                        WHERE event.job_id = job.id AND event.type = 'started'), '-infinity')
              < now() - make_interval(secs => stray_grace_seconds)
        RETURNING job.id
    )
    SELECT COALESCE(array_agg(released.id ORDER BY released.id), '{}') INTO released_job_ids FROM released;
    RETURN NEXT;
END;
$$;

-- Claims up to p_limit runnable jobs of the tasks named (NULL: every task) for a worker in one
-- statement, with the semantics of procrastinate_fetch_job_v2 called p_limit times: todo, in
-- the queues (NULL: any), due, highest priority then lowest id, rows locked by others skipped;
-- a job with a lock only when it heads its lock's queue (across all queues, schedules and
-- tasks: a locked job of another task still holds its lock's place) and no job of that lock
-- runs, so a batch holds at most one job per lock.
--
-- The claim commits durably (v1 did not): a claim a crash forgets puts a job back in the queue
-- while the worker that claimed it still runs it, and another worker would run it again.
--
-- Its plan is generic, made once per session: left to choose, PostgreSQL planned the query
-- anew at every call (0.3 ms, four times the run). JIT is off: the generic plan's estimated
-- cost grows with the table, and past jit_above_cost each call spent ~10 ms compiling.
CREATE FUNCTION procrastinate_swift_fetch_jobs_v2(
    target_queue_names character varying[],
    p_worker_id bigint,
    p_limit integer,
    target_task_names character varying[]
) RETURNS SETOF procrastinate_jobs LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET jit = off AS $$
BEGIN
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
        SELECT head.id, head.priority, head.queue_name, head.task_name, head.scheduled_at
        FROM locks
        CROSS JOIN LATERAL (
            SELECT job.id, job.priority, job.queue_name, job.task_name, job.scheduled_at FROM procrastinate_jobs AS job
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
          AND (target_task_names IS NULL OR job.task_name = ANY (target_task_names))
          AND (job.scheduled_at IS NULL OR job.scheduled_at <= now())
        ORDER BY job.priority DESC, job.id ASC
        LIMIT p_limit
        FOR UPDATE OF job SKIP LOCKED
    ), candidates AS (
        SELECT heads.id, heads.priority FROM heads
        WHERE (target_queue_names IS NULL OR heads.queue_name = ANY (target_queue_names))
          AND (target_task_names IS NULL OR heads.task_name = ANY (target_task_names))
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

-- The claim of workers of the previous release (0.2.0_01 and _02): now the v2 claim of every
-- task, durable.
CREATE OR REPLACE FUNCTION procrastinate_swift_fetch_jobs_v1(
    target_queue_names character varying[],
    p_worker_id bigint,
    p_limit integer
) RETURNS SETOF procrastinate_jobs LANGUAGE sql AS $$
    SELECT * FROM procrastinate_swift_fetch_jobs_v2(target_queue_names, p_worker_id, p_limit, NULL)
$$;

-- Records the outcomes of running jobs in one statement: succeeded, failed or aborted (or the
-- row deleted), with the rows and events of procrastinate_finish_job_v1, or 'todo' for a retry
-- at retry_ats (new priority, queue and lock when not NULL), with those of
-- procrastinate_retry_job_v2 (a job whose abort was requested fails instead). Fenced: a job is
-- only touched while it runs in the attempt it was claimed in (job_attempts), so a worker that
-- lost its job to stalled-job recovery cannot record over the next attempt. Returns the ids of
-- the jobs recorded; the others were left alone.
CREATE FUNCTION procrastinate_swift_finish_jobs_v2(
    job_ids bigint[],
    job_attempts integer[],
    end_statuses procrastinate_job_status[],
    delete_jobs boolean[],
    retry_ats timestamp with time zone[],
    new_priorities integer[],
    new_queue_names character varying[],
    new_locks character varying[]
) RETURNS SETOF bigint LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    IF EXISTS (SELECT FROM unnest(end_statuses) AS given(status) WHERE given.status NOT IN ('succeeded', 'failed', 'aborted', 'todo')) THEN
        RAISE 'End status should be either "succeeded", "failed", "aborted" or "todo" (a retry)';
    END IF;

    RETURN QUERY
    WITH given AS (
        SELECT * FROM unnest(job_ids, job_attempts, end_statuses, delete_jobs, retry_ats, new_priorities, new_queue_names, new_locks)
            AS given(id, attempts, status, delete_job, retry_at, priority, queue_name, lock)
    ), deleted AS (
        DELETE FROM procrastinate_jobs AS job
        USING given
        WHERE job.id = given.id AND given.delete_job AND given.status <> 'todo'
          AND job.status = 'doing' AND (given.attempts IS NULL OR job.attempts = given.attempts)
        RETURNING job.id
    ), updated AS (
        UPDATE procrastinate_jobs AS job
        SET status = CASE
                WHEN given.status <> 'todo' THEN given.status
                WHEN job.abort_requested THEN 'failed'
                ELSE 'todo' END,
            attempts = job.attempts + (CASE WHEN given.status = 'todo' AND job.abort_requested THEN 0 ELSE 1 END),
            scheduled_at = CASE WHEN given.status = 'todo' AND NOT job.abort_requested THEN given.retry_at ELSE job.scheduled_at END,
            priority = CASE WHEN given.status = 'todo' THEN COALESCE(given.priority, job.priority) ELSE job.priority END,
            queue_name = CASE WHEN given.status = 'todo' THEN COALESCE(given.queue_name, job.queue_name) ELSE job.queue_name END,
            lock = CASE WHEN given.status = 'todo' THEN COALESCE(given.lock, job.lock) ELSE job.lock END,
            abort_requested = false
        FROM given
        WHERE job.id = given.id AND NOT (given.delete_job AND given.status <> 'todo')
          AND job.status = 'doing' AND (given.attempts IS NULL OR job.attempts = given.attempts)
        RETURNING job.id
    )
    SELECT deleted.id FROM deleted
    UNION ALL
    SELECT updated.id FROM updated;
END;
$$;

-- procrastinate_swift_finish_jobs_v2 then procrastinate_swift_fetch_jobs_v2 in one transaction
-- (see procrastinate_swift_finish_jobs_and_fetch_v1): a finished or retried locked
-- job's slot goes straight to the next job. Returns the claimed jobs, then one row per outcome
-- left alone holding only its id (its status is NULL).
CREATE FUNCTION procrastinate_swift_finish_jobs_and_fetch_v2(
    job_ids bigint[],
    job_attempts integer[],
    end_statuses procrastinate_job_status[],
    delete_jobs boolean[],
    retry_ats timestamp with time zone[],
    new_priorities integer[],
    new_queue_names character varying[],
    new_locks character varying[],
    target_queue_names character varying[],
    p_worker_id bigint,
    p_limit integer,
    target_task_names character varying[]
) RETURNS SETOF procrastinate_jobs LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    finished bigint[];
BEGIN
    finished := ARRAY(SELECT procrastinate_swift_finish_jobs_v2(
        job_ids, job_attempts, end_statuses, delete_jobs, retry_ats, new_priorities, new_queue_names, new_locks));
    IF p_limit > 0 THEN
        RETURN QUERY SELECT * FROM procrastinate_swift_fetch_jobs_v2(target_queue_names, p_worker_id, p_limit, target_task_names);
    END IF;
    RETURN QUERY
    SELECT (jsonb_populate_record(NULL::procrastinate_jobs, jsonb_build_object('id', given.id))).*
    FROM unnest(job_ids) AS given(id)
    WHERE given.id <> ALL (finished);
END;
$$;

INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_03_pre_add_swift_worker_leases');
