-- Procrastinate for Swift: database schema.
--
-- Object for object compatible with Python Procrastinate 3.10 (same types, tables, columns,
-- indexes, functions, triggers and NOTIFY payloads), so that Swift and Python workers can
-- share one database. Apply it to an empty database (`procrastinate schema --apply`); later
-- changes arrive as files in `sql/migrations/` (see `sql/README.md`).
--
-- Objects are created in the current `search_path`.

-- PL/pgSQL ships with PostgreSQL; managed services may refuse CREATE EXTENSION even when it
-- is already installed, so only a missing language is an error.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS plpgsql WITH SCHEMA pg_catalog;
EXCEPTION WHEN OTHERS THEN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'plpgsql') THEN
        RAISE;
    END IF;
END;
$$;

-- ------------------------------------------------------------------------------------------
-- Types
-- ------------------------------------------------------------------------------------------

-- Life cycle of a job. 'aborting' is kept for compatibility and never written.
CREATE TYPE procrastinate_job_status AS ENUM (
    'todo', 'doing', 'succeeded', 'failed', 'cancelled', 'aborting', 'aborted'
);

-- What the status-tracking triggers record in procrastinate_events.
CREATE TYPE procrastinate_job_event_type AS ENUM (
    'deferred', 'started', 'deferred_for_retry', 'failed', 'succeeded',
    'cancelled', 'abort_requested', 'aborted', 'scheduled', 'retried'
);

-- One element of a batch given to procrastinate_defer_jobs_v1.
CREATE TYPE procrastinate_job_to_defer_v1 AS (
    queue_name character varying,
    task_name character varying,
    priority integer,
    lock text,
    queueing_lock text,
    args jsonb,
    scheduled_at timestamp with time zone
);

-- ------------------------------------------------------------------------------------------
-- Tables
-- ------------------------------------------------------------------------------------------

-- Running workers and their last sign of life.
CREATE TABLE procrastinate_workers (
    id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    last_heartbeat timestamp with time zone NOT NULL DEFAULT now()
);

-- The queue itself: one row per job.
CREATE TABLE procrastinate_jobs (
    id bigserial PRIMARY KEY,
    queue_name character varying(128) NOT NULL,
    task_name character varying(128) NOT NULL,
    priority integer NOT NULL DEFAULT 0,
    lock text,
    queueing_lock text,
    args jsonb NOT NULL DEFAULT '{}',
    status procrastinate_job_status NOT NULL DEFAULT 'todo',
    scheduled_at timestamp with time zone NULL,
    attempts integer NOT NULL DEFAULT 0,
    abort_requested boolean NOT NULL DEFAULT false,
    worker_id bigint REFERENCES procrastinate_workers (id) ON DELETE SET NULL,
    CONSTRAINT check_not_todo_abort_requested CHECK (NOT (status = 'todo' AND abort_requested = true))
);

-- Deduplication of periodic ticks: one row per (task, periodic id, tick) ever deferred.
CREATE TABLE procrastinate_periodic_defers (
    id bigserial PRIMARY KEY,
    task_name character varying(128) NOT NULL,
    defer_timestamp bigint,
    job_id bigint REFERENCES procrastinate_jobs (id) NULL,
    periodic_id character varying(128) NOT NULL DEFAULT '',
    CONSTRAINT procrastinate_periodic_defers_unique UNIQUE (task_name, periodic_id, defer_timestamp)
);

-- History of every job, written by triggers only.
CREATE TABLE procrastinate_events (
    id bigserial PRIMARY KEY,
    job_id bigint NOT NULL REFERENCES procrastinate_jobs ON DELETE CASCADE,
    type procrastinate_job_event_type,
    at timestamp with time zone DEFAULT now() NULL
);

-- ------------------------------------------------------------------------------------------
-- Indexes
-- ------------------------------------------------------------------------------------------

-- At most one waiting job per queueing lock.
CREATE UNIQUE INDEX procrastinate_jobs_queueing_lock_idx_v1 ON procrastinate_jobs (queueing_lock) WHERE status = 'todo';
-- At most one running job per lock (the safety net behind the fetch rule).
CREATE UNIQUE INDEX procrastinate_jobs_lock_idx_v1 ON procrastinate_jobs (lock) WHERE status = 'doing';
CREATE INDEX procrastinate_jobs_queue_name_idx_v1 ON procrastinate_jobs (queue_name);
CREATE INDEX procrastinate_jobs_id_lock_idx_v1 ON procrastinate_jobs (id, lock) WHERE status = ANY (ARRAY['todo'::procrastinate_job_status, 'doing'::procrastinate_job_status]);
-- The fetch order: highest priority first, then oldest.
CREATE INDEX procrastinate_jobs_priority_idx_v1 ON procrastinate_jobs (priority DESC, id ASC) WHERE status = 'todo'::procrastinate_job_status;
CREATE INDEX idx_procrastinate_jobs_worker_not_null ON procrastinate_jobs (worker_id) WHERE worker_id IS NOT NULL AND status = 'doing'::procrastinate_job_status;

CREATE INDEX procrastinate_events_job_id_fkey_v1 ON procrastinate_events (job_id);
CREATE INDEX procrastinate_periodic_defers_job_id_fkey_v1 ON procrastinate_periodic_defers (job_id);
CREATE INDEX idx_procrastinate_workers_last_heartbeat ON procrastinate_workers (last_heartbeat);

-- ------------------------------------------------------------------------------------------
-- Functions called by clients
-- ------------------------------------------------------------------------------------------

-- Inserts a batch of jobs in one statement; returns their ids in the order given.
CREATE FUNCTION procrastinate_defer_jobs_v1(
    jobs procrastinate_job_to_defer_v1[]
) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    inserted_ids bigint[];
BEGIN
    WITH inserted AS (
        INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args, scheduled_at)
        SELECT given.queue_name, given.task_name, given.priority, given.lock,
               given.queueing_lock, given.args, given.scheduled_at
        FROM unnest(jobs) WITH ORDINALITY
             AS given(queue_name, task_name, priority, lock, queueing_lock, args, scheduled_at, position)
        ORDER BY given.position
        RETURNING procrastinate_jobs.id
    )
    -- ids come from one sequence in insertion order, so sorting them restores the input order.
    SELECT array_agg(inserted.id ORDER BY inserted.id) FROM inserted INTO inserted_ids;
    RETURN inserted_ids;
END;
$$;

-- Defers one tick of a periodic task unless another scheduler already did; returns the new
-- job id, or NULL when the tick was deferred before.
CREATE FUNCTION procrastinate_defer_periodic_job_v2(
    _queue_name character varying,
    _lock character varying,
    _queueing_lock character varying,
    _task_name character varying,
    _priority integer,
    _periodic_id character varying,
    _defer_timestamp bigint,
    _args jsonb
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    claimed_defer_id bigint;
    new_job_id bigint;
BEGIN
    INSERT INTO procrastinate_periodic_defers (task_name, periodic_id, defer_timestamp)
    VALUES (_task_name, _periodic_id, _defer_timestamp)
    ON CONFLICT DO NOTHING
    RETURNING id INTO claimed_defer_id;

    IF claimed_defer_id IS NULL THEN
        RETURN NULL;
    END IF;

    new_job_id := (procrastinate_defer_jobs_v1(ARRAY[
        ROW(_queue_name, _task_name, _priority, _lock, _queueing_lock, _args, NULL)::procrastinate_job_to_defer_v1
    ]))[1];

    UPDATE procrastinate_periodic_defers SET job_id = new_job_id WHERE id = claimed_defer_id;

    -- Older ticks of the same schedule are no longer needed for deduplication.
    DELETE FROM procrastinate_periodic_defers
    WHERE task_name = _task_name
      AND periodic_id = _periodic_id
      AND defer_timestamp < _defer_timestamp;

    RETURN new_job_id;
END;
$$;

-- Claims the next runnable job for a worker (see sql/README.md for the rule) and returns it,
-- or a row of NULLs when there is none.
CREATE FUNCTION procrastinate_fetch_job_v2(
    target_queue_names character varying[],
    p_worker_id bigint
) RETURNS procrastinate_jobs LANGUAGE plpgsql AS $$
DECLARE
    claimed procrastinate_jobs;
BEGIN
    WITH candidate AS (
        SELECT job.id
        FROM procrastinate_jobs AS job
        WHERE job.status = 'todo'
          AND (target_queue_names IS NULL OR job.queue_name = ANY (target_queue_names))
          AND (job.scheduled_at IS NULL OR job.scheduled_at <= now())
          AND (job.lock IS NULL OR NOT EXISTS (
                SELECT FROM procrastinate_jobs AS blocker
                WHERE blocker.lock = job.lock
                  AND blocker.id <> job.id
                  AND blocker.status IN ('todo', 'doing')
                  AND (blocker.status = 'doing'
                       OR blocker.priority > job.priority
                       OR (blocker.priority = job.priority AND blocker.id < job.id))
          ))
        ORDER BY job.priority DESC, job.id ASC
        LIMIT 1
        FOR UPDATE OF job SKIP LOCKED
    )
    UPDATE procrastinate_jobs
    SET status = 'doing', worker_id = p_worker_id
    FROM candidate
    WHERE procrastinate_jobs.id = candidate.id
    RETURNING procrastinate_jobs.* INTO claimed;

    RETURN claimed;
END;
$$;

-- Records the outcome of a job (or deletes it); a job that was running counts one more attempt.
CREATE FUNCTION procrastinate_finish_job_v1(
    job_id bigint,
    end_status procrastinate_job_status,
    delete_job boolean
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    finished_id bigint;
BEGIN
    IF end_status NOT IN ('succeeded', 'failed', 'aborted') THEN
        RAISE 'End status should be either "succeeded", "failed" or "aborted" (job id: %)', job_id;
    END IF;

    IF delete_job THEN
        DELETE FROM procrastinate_jobs AS job
        WHERE job.id = procrastinate_finish_job_v1.job_id AND job.status IN ('todo', 'doing')
        RETURNING job.id INTO finished_id;
    ELSE
        UPDATE procrastinate_jobs AS job
        SET status = end_status,
            abort_requested = false,
            attempts = job.attempts + (CASE WHEN job.status = 'doing' THEN 1 ELSE 0 END)
        WHERE job.id = procrastinate_finish_job_v1.job_id AND job.status IN ('todo', 'doing')
        RETURNING job.id INTO finished_id;
    END IF;

    IF finished_id IS NULL THEN
        RAISE 'Job was not found or not in "doing" or "todo" status (job id: %)', job_id;
    END IF;
END;
$$;

-- Cancels a waiting job (or deletes it), or asks a running job to abort. Returns the job id,
-- or NULL when no job matched.
CREATE FUNCTION procrastinate_cancel_job_v1(
    job_id bigint,
    abort boolean,
    delete_job boolean
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    matched_id bigint;
BEGIN
    IF delete_job THEN
        DELETE FROM procrastinate_jobs AS job
        WHERE job.id = procrastinate_cancel_job_v1.job_id AND job.status = 'todo'
        RETURNING job.id INTO matched_id;
    END IF;

    IF matched_id IS NULL AND abort THEN
        UPDATE procrastinate_jobs AS job
        SET abort_requested = true,
            status = CASE WHEN job.status = 'todo' THEN 'cancelled' ELSE job.status END
        WHERE job.id = procrastinate_cancel_job_v1.job_id AND job.status IN ('todo', 'doing')
        RETURNING job.id INTO matched_id;
    ELSIF matched_id IS NULL THEN
        UPDATE procrastinate_jobs AS job
        SET status = 'cancelled'
        WHERE job.id = procrastinate_cancel_job_v1.job_id AND job.status = 'todo'
        RETURNING job.id INTO matched_id;
    END IF;

    RETURN matched_id;
END;
$$;

-- Pre-3.4 retry: only running jobs. Kept because older clients call it.
CREATE FUNCTION procrastinate_retry_job_v1(
    job_id bigint,
    retry_at timestamp with time zone,
    new_priority integer,
    new_queue_name character varying,
    new_lock character varying
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    retried_id bigint;
BEGIN
    UPDATE procrastinate_jobs AS job
    SET status = 'todo',
        attempts = job.attempts + 1,
        scheduled_at = retry_at,
        priority = COALESCE(new_priority, job.priority),
        queue_name = COALESCE(new_queue_name, job.queue_name),
        lock = COALESCE(new_lock, job.lock)
    WHERE job.id = procrastinate_retry_job_v1.job_id AND job.status = 'doing'
    RETURNING job.id INTO retried_id;

    IF retried_id IS NULL THEN
        RAISE 'Job was not found or not in "doing" status (job id: %)', job_id;
    END IF;
END;
$$;

-- Puts a running or failed job back in the queue, one attempt more. A running job whose abort
-- was requested fails instead.
CREATE FUNCTION procrastinate_retry_job_v2(
    job_id bigint,
    retry_at timestamp with time zone,
    new_priority integer,
    new_queue_name character varying,
    new_lock character varying
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    current procrastinate_jobs;
    retried_id bigint;
BEGIN
    SELECT * INTO current
    FROM procrastinate_jobs AS job
    WHERE job.id = procrastinate_retry_job_v2.job_id AND job.status IN ('doing', 'failed')
    FOR UPDATE;

    IF current.status = 'doing' AND current.abort_requested THEN
        UPDATE procrastinate_jobs AS job
        SET status = 'failed'
        WHERE job.id = current.id
        RETURNING job.id INTO retried_id;
    ELSIF current.id IS NOT NULL THEN
        -- A failed job may still carry an old abort request, which a waiting job cannot hold.
        UPDATE procrastinate_jobs AS job
        SET status = 'todo',
            attempts = job.attempts + 1,
            scheduled_at = retry_at,
            priority = COALESCE(new_priority, job.priority),
            queue_name = COALESCE(new_queue_name, job.queue_name),
            lock = COALESCE(new_lock, job.lock),
            abort_requested = false
        WHERE job.id = current.id
        RETURNING job.id INTO retried_id;
    END IF;

    IF retried_id IS NULL THEN
        RAISE 'Job was not found or has an invalid status to retry (job id: %)', job_id;
    END IF;
END;
$$;

-- Adds a worker and returns its id.
CREATE FUNCTION procrastinate_register_worker_v1()
RETURNS TABLE(worker_id bigint) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    INSERT INTO procrastinate_workers DEFAULT VALUES
    RETURNING procrastinate_workers.id;
END;
$$;

-- Removes a worker; its jobs keep running rows with worker_id NULL (foreign key).
CREATE FUNCTION procrastinate_unregister_worker_v1(worker_id bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM procrastinate_workers AS worker
    WHERE worker.id = procrastinate_unregister_worker_v1.worker_id;
END;
$$;

-- Records a worker's sign of life.
CREATE FUNCTION procrastinate_update_heartbeat_v1(worker_id bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE procrastinate_workers AS worker
    SET last_heartbeat = now()
    WHERE worker.id = procrastinate_update_heartbeat_v1.worker_id;
END;
$$;

-- Removes the workers silent for longer than the given number of seconds; returns their ids.
CREATE FUNCTION procrastinate_prune_stalled_workers_v1(seconds_since_heartbeat double precision)
RETURNS TABLE(worker_id bigint) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    DELETE FROM procrastinate_workers AS worker
    WHERE worker.last_heartbeat < now() - make_interval(secs => seconds_since_heartbeat)
    RETURNING worker.id;
END;
$$;

-- ------------------------------------------------------------------------------------------
-- Trigger functions
-- ------------------------------------------------------------------------------------------

-- NOTIFY both the job's queue channel and the any-queue channel that a job arrived.
CREATE FUNCTION procrastinate_notify_queue_job_inserted_v1()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload text := json_build_object('type', 'job_inserted', 'job_id', NEW.id)::text;
BEGIN
    PERFORM pg_notify('procrastinate_queue_v1#' || NEW.queue_name, payload);
    PERFORM pg_notify('procrastinate_any_queue_v1', payload);
    RETURN NEW;
END;
$$;

-- NOTIFY both channels that a running job was asked to abort.
CREATE FUNCTION procrastinate_notify_queue_abort_job_v1()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload text := json_build_object('type', 'abort_job_requested', 'job_id', NEW.id)::text;
BEGIN
    PERFORM pg_notify('procrastinate_queue_v1#' || NEW.queue_name, payload);
    PERFORM pg_notify('procrastinate_any_queue_v1', payload);
    RETURN NEW;
END;
$$;

-- Event 'deferred' for every new waiting job.
CREATE FUNCTION procrastinate_trigger_function_status_events_insert_v1()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO procrastinate_events (job_id, type) VALUES (NEW.id, 'deferred');
    RETURN NEW;
END;
$$;

-- One event per status transition.
CREATE FUNCTION procrastinate_trigger_function_status_events_update_v1()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    event procrastinate_job_event_type := CASE
        WHEN OLD.status = 'todo' AND NEW.status = 'doing' THEN 'started'
        WHEN OLD.status = 'doing' AND NEW.status = 'todo' THEN 'deferred_for_retry'
        WHEN OLD.status = 'doing' AND NEW.status = 'failed' THEN 'failed'
        WHEN OLD.status = 'doing' AND NEW.status = 'succeeded' THEN 'succeeded'
        WHEN OLD.status = 'todo' AND NEW.status IN ('cancelled', 'failed', 'succeeded') THEN 'cancelled'
        WHEN OLD.status = 'doing' AND NEW.status = 'aborted' THEN 'aborted'
        WHEN OLD.status = 'failed' AND NEW.status = 'todo' THEN 'retried'
    END;
BEGIN
    IF event IS NOT NULL THEN
        INSERT INTO procrastinate_events (job_id, type) VALUES (NEW.id, event);
    END IF;
    RETURN NEW;
END;
$$;

-- Event 'scheduled', dated at the planned time.
CREATE FUNCTION procrastinate_trigger_function_scheduled_events_v1()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO procrastinate_events (job_id, type, at) VALUES (NEW.id, 'scheduled', NEW.scheduled_at);
    RETURN NEW;
END;
$$;

-- Event 'abort_requested'.
CREATE FUNCTION procrastinate_trigger_abort_requested_events_procedure_v1()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO procrastinate_events (job_id, type) VALUES (NEW.id, 'abort_requested');
    RETURN NEW;
END;
$$;

-- Deleting a job keeps its periodic deduplication row, unlinked.
CREATE FUNCTION procrastinate_unlink_periodic_defers_v1()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE procrastinate_periodic_defers SET job_id = NULL WHERE job_id = OLD.id;
    RETURN OLD;
END;
$$;

-- ------------------------------------------------------------------------------------------
-- Triggers (PostgreSQL fires same-event triggers in name order: 'scheduled' before 'deferred')
-- ------------------------------------------------------------------------------------------

CREATE TRIGGER procrastinate_jobs_notify_queue_job_inserted_v1
    AFTER INSERT ON procrastinate_jobs
    FOR EACH ROW WHEN (new.status = 'todo'::procrastinate_job_status)
    EXECUTE PROCEDURE procrastinate_notify_queue_job_inserted_v1();

CREATE TRIGGER procrastinate_jobs_notify_queue_job_aborted_v1
    AFTER UPDATE OF abort_requested ON procrastinate_jobs
    FOR EACH ROW WHEN (old.abort_requested = false AND new.abort_requested = true AND new.status = 'doing'::procrastinate_job_status)
    EXECUTE PROCEDURE procrastinate_notify_queue_abort_job_v1();

CREATE TRIGGER procrastinate_trigger_status_events_update_v1
    AFTER UPDATE OF status ON procrastinate_jobs
    FOR EACH ROW
    EXECUTE PROCEDURE procrastinate_trigger_function_status_events_update_v1();

CREATE TRIGGER procrastinate_trigger_status_events_insert_v1
    AFTER INSERT ON procrastinate_jobs
    FOR EACH ROW WHEN (new.status = 'todo'::procrastinate_job_status)
    EXECUTE PROCEDURE procrastinate_trigger_function_status_events_insert_v1();

CREATE TRIGGER procrastinate_trigger_scheduled_events_v1
    AFTER UPDATE OR INSERT ON procrastinate_jobs
    FOR EACH ROW WHEN (new.scheduled_at IS NOT NULL AND new.status = 'todo'::procrastinate_job_status)
    EXECUTE PROCEDURE procrastinate_trigger_function_scheduled_events_v1();

CREATE TRIGGER procrastinate_trigger_abort_requested_events_v1
    AFTER UPDATE OF abort_requested ON procrastinate_jobs
    FOR EACH ROW WHEN (new.abort_requested = true)
    EXECUTE PROCEDURE procrastinate_trigger_abort_requested_events_procedure_v1();

CREATE TRIGGER procrastinate_trigger_delete_jobs_v1
    BEFORE DELETE ON procrastinate_jobs
    FOR EACH ROW
    EXECUTE PROCEDURE procrastinate_unlink_periodic_defers_v1();

-- ------------------------------------------------------------------------------------------
-- Procrastinate for Swift's own objects (procrastinate_swift_*), as sql/migrations/ adds them
-- ------------------------------------------------------------------------------------------

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

-- The same of each queue, so that a worker of named queues does not walk past the backlog of
-- others.
CREATE INDEX procrastinate_swift_jobs_unlocked_queue_idx_v1 ON procrastinate_jobs (queue_name, priority DESC, id ASC)
    WHERE status = 'todo'::procrastinate_job_status AND lock IS NULL;

-- Records the outcomes of several jobs in one statement, with the rows and events of
-- procrastinate_finish_job_v1 for each; returns the ids of the jobs finished (a job no longer
-- running or waiting is left alone). Its plan is generic too (replanning cost 0.12 ms a call).
CREATE FUNCTION procrastinate_swift_finish_jobs_v1(
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
-- did, and announces the room it frees. Retrying counts an attempt, as procrastinate_retry_job_v2
-- does.
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
    stalled_queue character varying;
BEGIN
    SELECT job.id, job.queue_name INTO stalled_id, stalled_queue
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
    PERFORM procrastinate_swift_notify_room_freed_v1(ARRAY(SELECT DISTINCT queue.name FROM unnest(ARRAY[stalled_queue, new_queue_name]) AS queue(name) WHERE queue.name IS NOT NULL));
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

-- The jobs of a lock wait in one line across queues, schedules and tasks, ordered by priority
-- (highest first) then id. This table holds, for every lock with waiting ('todo') jobs, the
-- job at the front of that line, and nothing else.
CREATE TABLE procrastinate_swift_lock_heads (
    lock text PRIMARY KEY,
    job_id bigint NOT NULL,
    priority integer NOT NULL,
    queue_name character varying NOT NULL
);

-- The heads in claim order, of every queue and of each.
CREATE INDEX procrastinate_swift_lock_heads_order_idx_v1 ON procrastinate_swift_lock_heads (priority DESC, job_id ASC);
CREATE INDEX procrastinate_swift_lock_heads_queue_order_idx_v1 ON procrastinate_swift_lock_heads (queue_name, priority DESC, job_id ASC);

-- Brings the heads of `changed_locks` (distinct) up to date with procrastinate_jobs. First
-- their rows are locked, in lock order, so that two statements never wait on each other in a
-- cycle; a lock without a row gets a placeholder (job 0, which no claim finds) that is locked
-- as well. Then, in a new statement, so with a snapshot taken once the rows are held, the
-- front of each lock's line is read afresh and written: the later of two writers of a lock
-- always sees the other's jobs.
CREATE FUNCTION procrastinate_swift_refresh_lock_heads_v1(changed_locks text[])
RETURNS void LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    IF cardinality(changed_locks) = 0 THEN
        RETURN;
    END IF;

    INSERT INTO procrastinate_swift_lock_heads AS head (lock, job_id, priority, queue_name)
    SELECT changed.lock, 0, 0, '' FROM unnest(changed_locks) AS changed(lock)
    ORDER BY changed.lock
    ON CONFLICT (lock) DO UPDATE SET job_id = head.job_id WHERE false;

    WITH fronts AS (
        SELECT changed.lock, front.id, front.priority, front.queue_name
        FROM unnest(changed_locks) AS changed(lock)
        LEFT JOIN LATERAL (
            SELECT job.id, job.priority, job.queue_name FROM procrastinate_jobs AS job
            WHERE job.status = 'todo' AND job.lock = changed.lock
            ORDER BY job.priority DESC, job.id ASC
            LIMIT 1
        ) AS front ON true
    ), emptied AS (
        DELETE FROM procrastinate_swift_lock_heads AS head
        USING fronts
        WHERE head.lock = fronts.lock AND fronts.id IS NULL
    )
    UPDATE procrastinate_swift_lock_heads AS head
    SET job_id = fronts.id, priority = fronts.priority, queue_name = fronts.queue_name
    FROM fronts
    WHERE head.lock = fronts.lock AND fronts.id IS NOT NULL
      AND (head.job_id, head.priority, head.queue_name) IS DISTINCT FROM (fronts.id, fronts.priority, fronts.queue_name);
END;
$$;

-- The locks of the waiting jobs a statement inserted.
CREATE FUNCTION procrastinate_swift_lock_heads_inserted_v1()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM procrastinate_swift_refresh_lock_heads_v1(ARRAY(
        SELECT DISTINCT job.lock FROM new_jobs AS job WHERE job.status = 'todo' AND job.lock IS NOT NULL
    ));
    RETURN NULL;
END;
$$;

-- The locks of the jobs a statement made wait, or stop waiting, or that waited and changed
-- (a retry may change a job's lock and priority). Finishing a running job changes no head.
CREATE FUNCTION procrastinate_swift_lock_heads_updated_v1()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM procrastinate_swift_refresh_lock_heads_v1(ARRAY(
        SELECT job.lock FROM old_jobs AS job WHERE job.status = 'todo' AND job.lock IS NOT NULL
        UNION
        SELECT job.lock FROM new_jobs AS job WHERE job.status = 'todo' AND job.lock IS NOT NULL
    ));
    RETURN NULL;
END;
$$;

-- The locks of the waiting jobs a statement deleted.
CREATE FUNCTION procrastinate_swift_lock_heads_deleted_v1()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM procrastinate_swift_refresh_lock_heads_v1(ARRAY(
        SELECT DISTINCT job.lock FROM old_jobs AS job WHERE job.status = 'todo' AND job.lock IS NOT NULL
    ));
    RETURN NULL;
END;
$$;

CREATE FUNCTION procrastinate_swift_lock_heads_truncated_v1()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE procrastinate_swift_lock_heads;
    RETURN NULL;
END;
$$;

CREATE TRIGGER procrastinate_swift_lock_heads_inserted_v1
    AFTER INSERT ON procrastinate_jobs
    REFERENCING NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE PROCEDURE procrastinate_swift_lock_heads_inserted_v1();

CREATE TRIGGER procrastinate_swift_lock_heads_updated_v1
    AFTER UPDATE ON procrastinate_jobs
    REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE PROCEDURE procrastinate_swift_lock_heads_updated_v1();

CREATE TRIGGER procrastinate_swift_lock_heads_deleted_v1
    AFTER DELETE ON procrastinate_jobs
    REFERENCING OLD TABLE AS old_jobs
    FOR EACH STATEMENT EXECUTE PROCEDURE procrastinate_swift_lock_heads_deleted_v1();

CREATE TRIGGER procrastinate_swift_lock_heads_truncated_v1
    AFTER TRUNCATE ON procrastinate_jobs
    FOR EACH STATEMENT EXECUTE PROCEDURE procrastinate_swift_lock_heads_truncated_v1();

-- Queue and task limits, declared by applications (a worker writes its app's at start) or by
-- an operator. starts: the latest starts (at most rate_count), oldest first.
CREATE TABLE procrastinate_swift_limits (
    scope text NOT NULL CHECK (scope IN ('queue', 'task')),
    name character varying NOT NULL,
    max_running integer CHECK (max_running >= 1),
    rate_count integer CHECK (rate_count BETWEEN 1 AND 10000),
    rate_period double precision CHECK (rate_period > 0),
    rate_burst integer,
    starts timestamp with time zone[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (scope, name),
    CHECK (max_running IS NOT NULL OR rate_count IS NOT NULL),
    CHECK ((rate_count IS NULL) = (rate_period IS NULL) AND (rate_count IS NULL) = (rate_burst IS NULL)),
    CHECK (rate_burst BETWEEN 1 AND rate_count)
);

-- Limit keys, with the limit their latest job was deferred with.
CREATE TABLE procrastinate_swift_limit_keys (
    limit_key text PRIMARY KEY,
    max_running integer CHECK (max_running >= 1),
    rate_count integer CHECK (rate_count BETWEEN 1 AND 10000),
    rate_period double precision CHECK (rate_period > 0),
    rate_burst integer,
    starts timestamp with time zone[] NOT NULL DEFAULT '{}',
    CHECK (max_running IS NOT NULL OR rate_count IS NOT NULL),
    CHECK ((rate_count IS NULL) = (rate_period IS NULL) AND (rate_count IS NULL) = (rate_burst IS NULL)),
    CHECK (rate_burst BETWEEN 1 AND rate_count)
);

-- The limit key of each job deferred with one.
CREATE TABLE procrastinate_swift_job_limit_keys (
    job_id bigint PRIMARY KEY REFERENCES procrastinate_jobs (id) ON DELETE CASCADE,
    limit_key text NOT NULL REFERENCES procrastinate_swift_limit_keys (limit_key)
);

CREATE INDEX procrastinate_swift_job_limit_keys_key_idx_v1 ON procrastinate_swift_job_limit_keys (limit_key);

-- Queues no Swift worker claims from until they are resumed.
CREATE TABLE procrastinate_swift_paused_queues (
    queue_name character varying PRIMARY KEY,
    paused_at timestamp with time zone NOT NULL DEFAULT now()
);

-- The running jobs, so that a claim counts them per queue, task and key without reading the
-- waiting ones.
CREATE INDEX procrastinate_swift_jobs_running_idx_v1 ON procrastinate_jobs (queue_name, task_name, id)
    WHERE status = 'doing'::procrastinate_job_status;

-- How many more jobs a limit lets start at `at`, with `running` of its jobs running (a large
-- number for what it does not limit): below its concurrency, below rate_count starts in the
-- latest rate_period, and below rate_burst starts in the latest rate_period * rate_burst /
-- rate_count (the pace: starts spread over the period rather than all at its beginning).
-- starts is in order, so width_bucket counts those up to a time; without a sub-select, the
-- planner inlines the function.
CREATE FUNCTION procrastinate_swift_limit_room_v1(
    p_max_running integer,
    p_rate_count integer,
    p_rate_period double precision,
    p_rate_burst integer,
    p_starts timestamp with time zone[],
    p_running bigint,
    p_at timestamp with time zone
) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT least(
        COALESCE(p_max_running - p_running, 2147483647),
        COALESCE(p_rate_count - cardinality(p_starts) + width_bucket(p_at - make_interval(secs => p_rate_period), p_starts), 2147483647),
        COALESCE(p_rate_burst - cardinality(p_starts)
                 + width_bucket(p_at - make_interval(secs => p_rate_period * p_rate_burst / p_rate_count), p_starts), 2147483647)
    )::integer
$$;

-- When a full rate window (rate_count starts in the period, or rate_burst in its pace) lets a
-- job start again; NULL when it is not full, or has no rate.
CREATE FUNCTION procrastinate_swift_rate_opening_v1(
    p_rate_count integer,
    p_rate_period double precision,
    p_rate_burst integer,
    p_starts timestamp with time zone[]
) RETURNS timestamp with time zone LANGUAGE sql IMMUTABLE AS $$
    SELECT greatest(
        CASE WHEN cardinality(p_starts) >= p_rate_count
             THEN p_starts[cardinality(p_starts) - p_rate_count + 1] + make_interval(secs => p_rate_period) END,
        CASE WHEN cardinality(p_starts) >= p_rate_burst
             THEN p_starts[cardinality(p_starts) - p_rate_burst + 1] + make_interval(secs => p_rate_period * p_rate_burst / p_rate_count) END
    )
$$;

-- A rate limit's window after `started` more starts at `at`: its starts within the period,
-- the newest rate_count of them, oldest first.
CREATE FUNCTION procrastinate_swift_rate_window_v1(
    p_starts timestamp with time zone[],
    p_rate_count integer,
    p_rate_period double precision,
    p_at timestamp with time zone,
    p_started bigint
) RETURNS timestamp with time zone[] LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN ARRAY(
        SELECT kept.at FROM (
            SELECT recent.at FROM (
                SELECT start.at FROM unnest(p_starts) AS start(at) WHERE start.at > p_at - make_interval(secs => p_rate_period)
                UNION ALL
                SELECT p_at FROM generate_series(1, p_started)
            ) AS recent
            ORDER BY recent.at DESC
            LIMIT p_rate_count
        ) AS kept
        ORDER BY kept.at
    );
END;
$$;

-- The limit keys of the running jobs, with how many of each run (plpgsql: its plan is made
-- once per session, where a SQL function's is made at every call).
CREATE FUNCTION procrastinate_swift_running_keys_v1(OUT limit_keys text[], OUT running integer[])
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    SELECT COALESCE(array_agg(counted.limit_key), '{}'), COALESCE(array_agg(counted.running), '{}')
    INTO limit_keys, running
    FROM (
        SELECT keyed.limit_key, count(*)::integer AS running
        FROM procrastinate_jobs AS job
        JOIN procrastinate_swift_job_limit_keys AS keyed ON keyed.job_id = job.id
        WHERE job.status = 'doing'
        GROUP BY keyed.limit_key
    ) AS counted;
END;
$$;

-- Inserts jobs as procrastinate_defer_jobs_v1 does, each with its limit key (NULL: none) and
-- that key's limit, which becomes the key's; returns their ids in the order given. Changed
-- key rows are held in key order after the jobs (and their locks' heads), as claims hold them,
-- so that neither waits on the other in a cycle.
CREATE FUNCTION procrastinate_swift_insert_limited_jobs_v1(
    queue_names character varying[],
    task_names character varying[],
    priorities integer[],
    locks text[],
    queueing_locks text[],
    args text[],
    scheduled_ats timestamp with time zone[],
    limit_keys text[],
    key_max_running integer[],
    key_rate_counts integer[],
    key_rate_periods double precision[],
    key_rate_bursts integer[]
) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    declared_keys text[];
    declared_max_running integer[];
    declared_rate_counts integer[];
    declared_rate_periods double precision[];
    declared_rate_bursts integer[];
BEGIN
    -- Each key once, with the limit of its last job given.
    SELECT COALESCE(array_agg(given.limit_key ORDER BY given.limit_key), '{}'),
        COALESCE(array_agg(given.max_running ORDER BY given.limit_key), '{}'),
        COALESCE(array_agg(given.rate_count ORDER BY given.limit_key), '{}'),
        COALESCE(array_agg(given.rate_period ORDER BY given.limit_key), '{}'),
        COALESCE(array_agg(given.rate_burst ORDER BY given.limit_key), '{}')
    INTO declared_keys, declared_max_running, declared_rate_counts, declared_rate_periods, declared_rate_bursts
    FROM (
        SELECT DISTINCT ON (given.limit_key) given.limit_key, given.max_running, given.rate_count, given.rate_period, given.rate_burst
        FROM unnest(limit_keys, key_max_running, key_rate_counts, key_rate_periods, key_rate_bursts) WITH ORDINALITY
            AS given(limit_key, max_running, rate_count, rate_period, rate_burst, position)
        WHERE given.limit_key IS NOT NULL
        ORDER BY given.limit_key, given.position DESC
    ) AS given;

    INSERT INTO procrastinate_swift_limit_keys (limit_key, max_running, rate_count, rate_period, rate_burst)
    SELECT * FROM unnest(declared_keys, declared_max_running, declared_rate_counts, declared_rate_periods, declared_rate_bursts)
    ON CONFLICT (limit_key) DO NOTHING;

    ids := procrastinate_defer_jobs_v1(ARRAY(
        SELECT ROW(job.queue_name, job.task_name, job.priority, job.lock, job.queueing_lock, job.args::jsonb, job.scheduled_at)::procrastinate_job_to_defer_v1
        FROM unnest(queue_names, task_names, priorities, locks, queueing_locks, args, scheduled_ats)
            WITH ORDINALITY AS job(queue_name, task_name, priority, lock, queueing_lock, args, scheduled_at, position)
        ORDER BY job.position
    ));

    INSERT INTO procrastinate_swift_job_limit_keys (job_id, limit_key)
    SELECT ids[given.position], given.limit_key
    FROM unnest(limit_keys) WITH ORDINALITY AS given(limit_key, position)
    WHERE given.limit_key IS NOT NULL;

    -- A changed declaration is written last: the jobs' lock heads are held before the keys'
    -- rows, as a claim holds them.
    PERFORM FROM procrastinate_swift_limit_keys AS key
    JOIN unnest(declared_keys, declared_max_running, declared_rate_counts, declared_rate_periods, declared_rate_bursts)
        AS declared(limit_key, max_running, rate_count, rate_period, rate_burst) ON declared.limit_key = key.limit_key
    WHERE (key.max_running, key.rate_count, key.rate_period, key.rate_burst)
        IS DISTINCT FROM (declared.max_running, declared.rate_count, declared.rate_period, declared.rate_burst)
    ORDER BY key.limit_key
    FOR NO KEY UPDATE OF key;

    UPDATE procrastinate_swift_limit_keys AS key
    SET max_running = declared.max_running, rate_count = declared.rate_count, rate_period = declared.rate_period,
        rate_burst = declared.rate_burst
    FROM unnest(declared_keys, declared_max_running, declared_rate_counts, declared_rate_periods, declared_rate_bursts)
        AS declared(limit_key, max_running, rate_count, rate_period, rate_burst)
    WHERE key.limit_key = declared.limit_key
      AND (key.max_running, key.rate_count, key.rate_period, key.rate_burst)
        IS DISTINCT FROM (declared.max_running, declared.rate_count, declared.rate_period, declared.rate_burst);

    RETURN ids;
END;
$$;

-- procrastinate_swift_insert_limited_jobs_v1 in a procedure that commits before it answers
-- (see procrastinate_swift_defer_jobs_v1).
CREATE PROCEDURE procrastinate_swift_defer_limited_jobs_v1(
    queue_names character varying[],
    task_names character varying[],
    priorities integer[],
    locks text[],
    queueing_locks text[],
    args text[],
    scheduled_ats timestamp with time zone[],
    limit_keys text[],
    key_max_running integer[],
    key_rate_counts integer[],
    key_rate_periods double precision[],
    key_rate_bursts integer[],
    INOUT ids bigint[] DEFAULT NULL
) LANGUAGE plpgsql AS $$
BEGIN
    ids := procrastinate_swift_insert_limited_jobs_v1(
        queue_names, task_names, priorities, locks, queueing_locks, args, scheduled_ats,
        limit_keys, key_max_running, key_rate_counts, key_rate_periods, key_rate_bursts);
    COMMIT;
END;
$$;

-- The limit key of job p_job_id and how many more jobs of that key may start at p_at, given
-- the running jobs of each key (no row for a job without a key, nor at all when
-- p_running_keys is NULL: no key exists). A single SELECT: the planner inlines it where it is
-- joined, and skips it when p_running_keys is NULL.
CREATE FUNCTION procrastinate_swift_job_key_room_v1(
    p_job_id bigint,
    p_running_keys text[],
    p_running_counts integer[],
    p_at timestamp with time zone
) RETURNS TABLE (limit_key text, room integer) LANGUAGE sql STABLE AS $$
    SELECT job_key.limit_key, procrastinate_swift_limit_room_v1(
        key.max_running, key.rate_count, key.rate_period, key.rate_burst, key.starts,
        COALESCE(p_running_counts[array_position(p_running_keys, job_key.limit_key)], 0), p_at)
    FROM procrastinate_swift_job_limit_keys AS job_key
    JOIN procrastinate_swift_limit_keys AS key ON key.limit_key = job_key.limit_key
    WHERE p_running_keys IS NOT NULL AND job_key.job_id = p_job_id
$$;

-- The claim of procrastinate_swift_fetch_jobs_v2 within every limit and outside paused queues.
-- 1. The queue and task limits the claim may use are held, in (scope, name) order.
-- 2. In a snapshot taken after that: the room of each limited queue and task, and the
--    running jobs of each key. While no queue is paused and every limited queue has room for
--    a whole batch, a worker of every queue claims by the indexes of every queue; otherwise,
--    from each queue (the named ones, or every queue with waiting jobs) with room, by its own
--    indexes, as many as its room.
-- 3. The best heads and unlocked jobs, passing over the jobs of tasks and keys without room;
--    then at most each queue's, task's and key's room of them, best first, up to p_limit.
-- 4. The keys of those jobs, if any, are held, in key order; in a new snapshot each key's
--    room is read again, and the jobs beyond it are dropped.
-- 5. The jobs start (a lock's head only while no job of its lock runs), and each rate limit's
--    window records the starts.
-- Every step reads by index, so that a claim's cost depends on neither the finished jobs nor
-- the number of keys.
CREATE FUNCTION procrastinate_swift_fetch_limited_jobs_v1(
    target_queue_names character varying[],
    p_worker_id bigint,
    p_limit integer,
    target_task_names character varying[]
) RETURNS SETOF procrastinate_jobs LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET jit = off AS $$
DECLARE
    claim_time timestamp with time zone;
    rated boolean;
    limited_queues character varying[];
    limited_queue_rooms integer[];
    every_queue boolean;
    open_queues character varying[] := '{}';
    queue_rooms integer[] := '{}';
    limited_tasks character varying[];
    task_rooms integer[];
    running_keys text[];
    running_counts integer[];
    candidate_ids bigint[];
    candidate_keys text[];
    keyed boolean;
BEGIN
    SELECT COALESCE(bool_or(held.rate_count IS NOT NULL), false) INTO rated FROM (
        SELECT limited.rate_count FROM procrastinate_swift_limits AS limited
        WHERE (limited.scope = 'queue' AND (target_queue_names IS NULL OR limited.name = ANY (target_queue_names)))
           OR (limited.scope = 'task' AND (target_task_names IS NULL OR limited.name = ANY (target_task_names)))
        ORDER BY limited.scope, limited.name
        FOR NO KEY UPDATE
    ) AS held;
    claim_time := clock_timestamp();

    SELECT COALESCE(array_agg(held.name) FILTER (WHERE held.scope = 'queue'), '{}'),
        COALESCE(array_agg(held.room) FILTER (WHERE held.scope = 'queue'), '{}'),
        COALESCE(array_agg(held.name) FILTER (WHERE held.scope = 'task'), '{}'),
        COALESCE(array_agg(held.room) FILTER (WHERE held.scope = 'task'), '{}'),
        target_queue_names IS NULL AND NOT EXISTS (SELECT FROM procrastinate_swift_paused_queues)
            AND COALESCE(min(held.room) FILTER (WHERE held.scope = 'queue'), p_limit) >= p_limit
    INTO limited_queues, limited_queue_rooms, limited_tasks, task_rooms, every_queue
    FROM (
        SELECT limited.scope, limited.name, procrastinate_swift_limit_room_v1(
            limited.max_running, limited.rate_count, limited.rate_period, limited.rate_burst, limited.starts,
            CASE limited.scope
                WHEN 'queue' THEN (SELECT count(*) FROM procrastinate_jobs AS job WHERE job.status = 'doing' AND job.queue_name = limited.name)
                ELSE (SELECT count(*) FROM procrastinate_jobs AS job WHERE job.status = 'doing' AND job.task_name = limited.name)
            END,
            claim_time) AS room
        FROM procrastinate_swift_limits AS limited
        WHERE (limited.scope = 'queue' AND (target_queue_names IS NULL OR limited.name = ANY (target_queue_names)))
           OR (limited.scope = 'task' AND (target_task_names IS NULL OR limited.name = ANY (target_task_names)))
        OFFSET 0 -- each room computed once, not once per aggregate
    ) AS held;
    IF NOT every_queue THEN
        -- Every queue with waiting jobs: skip scans of the indexes of waiting jobs (ordered as
        -- the partial indexes are, so that no other index serves them).
        WITH RECURSIVE unlocked_queues AS (
            (SELECT job.queue_name FROM procrastinate_jobs AS job
             WHERE job.status = 'todo' AND job.lock IS NULL ORDER BY job.queue_name, job.priority DESC, job.id LIMIT 1)
            UNION ALL
            SELECT (SELECT job.queue_name FROM procrastinate_jobs AS job
                    WHERE job.status = 'todo' AND job.lock IS NULL AND job.queue_name > unlocked_queues.queue_name
                    ORDER BY job.queue_name, job.priority DESC, job.id LIMIT 1)
            FROM unlocked_queues WHERE unlocked_queues.queue_name IS NOT NULL
        ), head_queues AS (
            (SELECT head.queue_name FROM procrastinate_swift_lock_heads AS head
             ORDER BY head.queue_name, head.priority DESC, head.job_id LIMIT 1)
            UNION ALL
            SELECT (SELECT head.queue_name FROM procrastinate_swift_lock_heads AS head
                    WHERE head.queue_name > head_queues.queue_name ORDER BY head.queue_name, head.priority DESC, head.job_id LIMIT 1)
            FROM head_queues WHERE head_queues.queue_name IS NOT NULL
        ), targets AS (
            SELECT given.queue_name FROM unnest(target_queue_names) AS given(queue_name)
            UNION
            SELECT unlocked_queues.queue_name FROM unlocked_queues
            WHERE target_queue_names IS NULL AND unlocked_queues.queue_name IS NOT NULL
            UNION
            SELECT head_queues.queue_name FROM head_queues
            WHERE target_queue_names IS NULL AND head_queues.queue_name IS NOT NULL
        ), rooms AS (
            SELECT targets.queue_name, COALESCE(limited_queue_rooms[array_position(limited_queues, targets.queue_name)], p_limit) AS room
            FROM targets
            WHERE NOT EXISTS (SELECT FROM procrastinate_swift_paused_queues AS paused WHERE paused.queue_name = targets.queue_name)
        )
        SELECT COALESCE(array_agg(rooms.queue_name), '{}'), COALESCE(array_agg(rooms.room), '{}')
        INTO open_queues, queue_rooms
        FROM rooms WHERE rooms.room > 0;
    END IF;

    IF EXISTS (SELECT FROM procrastinate_swift_job_limit_keys) THEN
        SELECT keys.limit_keys, keys.running INTO running_keys, running_counts FROM procrastinate_swift_running_keys_v1() AS keys;
    END IF;

    IF every_queue THEN
        SELECT COALESCE(array_agg(chosen.id ORDER BY chosen.priority DESC, chosen.id), '{}'),
            COALESCE(array_agg(chosen.limit_key ORDER BY chosen.priority DESC, chosen.id), '{}')
        INTO candidate_ids, candidate_keys
        FROM (
            SELECT ranked.id, ranked.priority, ranked.limit_key FROM (
                SELECT candidates.*,
                    row_number() OVER (PARTITION BY candidates.queue_name ORDER BY candidates.priority DESC, candidates.id ASC) AS queue_rank,
                    row_number() OVER (PARTITION BY candidates.task_name ORDER BY candidates.priority DESC, candidates.id ASC) AS task_rank,
                    row_number() OVER (PARTITION BY candidates.limit_key ORDER BY candidates.priority DESC, candidates.id ASC) AS key_rank
                FROM (
                    -- Every queue's, by the indexes of every queue.
                    SELECT * FROM (
                        SELECT job.id, job.priority, job.queue_name, p_limit AS queue_room, job.task_name, keyed.limit_key, keyed.room AS key_room
                        FROM procrastinate_swift_lock_heads AS head
                        JOIN procrastinate_jobs AS job ON job.id = head.job_id
                        LEFT JOIN LATERAL procrastinate_swift_job_key_room_v1(job.id, running_keys, running_counts, claim_time) AS keyed ON true
                        WHERE job.status = 'todo'
                          AND (target_task_names IS NULL OR job.task_name = ANY (target_task_names))
                          AND COALESCE(task_rooms[array_position(limited_tasks, job.task_name)], 1) > 0 AND COALESCE(keyed.room, 1) > 0
                          AND (job.scheduled_at IS NULL OR job.scheduled_at <= now())
                          AND NOT EXISTS (SELECT FROM procrastinate_jobs AS running WHERE running.lock = head.lock AND running.status = 'doing')
                        ORDER BY head.priority DESC, head.job_id ASC
                        LIMIT p_limit
                        FOR UPDATE OF head, job SKIP LOCKED
                    ) AS heads
                    UNION ALL
                    SELECT * FROM (
                        SELECT job.id, job.priority, job.queue_name, p_limit AS queue_room, job.task_name, keyed.limit_key, keyed.room AS key_room
                        FROM procrastinate_jobs AS job
                        LEFT JOIN LATERAL procrastinate_swift_job_key_room_v1(job.id, running_keys, running_counts, claim_time) AS keyed ON true
                        WHERE job.status = 'todo' AND job.lock IS NULL
                          AND (target_task_names IS NULL OR job.task_name = ANY (target_task_names))
                          AND COALESCE(task_rooms[array_position(limited_tasks, job.task_name)], 1) > 0 AND COALESCE(keyed.room, 1) > 0
                          AND (job.scheduled_at IS NULL OR job.scheduled_at <= now())
                        ORDER BY job.priority DESC, job.id ASC
                        LIMIT p_limit
                        FOR UPDATE OF job SKIP LOCKED
                    ) AS unlocked
                ) AS candidates
            ) AS ranked
            WHERE ranked.queue_rank <= ranked.queue_room
              AND ranked.task_rank <= COALESCE(task_rooms[array_position(limited_tasks, ranked.task_name)], p_limit)
              AND (ranked.limit_key IS NULL OR ranked.key_rank <= ranked.key_room)
            ORDER BY ranked.priority DESC, ranked.id ASC
            LIMIT p_limit
        ) AS chosen;
    ELSE
        SELECT COALESCE(array_agg(chosen.id ORDER BY chosen.priority DESC, chosen.id), '{}'),
            COALESCE(array_agg(chosen.limit_key ORDER BY chosen.priority DESC, chosen.id), '{}')
        INTO candidate_ids, candidate_keys
        FROM (
            SELECT ranked.id, ranked.priority, ranked.limit_key FROM (
                SELECT candidates.*,
                    row_number() OVER (PARTITION BY candidates.queue_name ORDER BY candidates.priority DESC, candidates.id ASC) AS queue_rank,
                    row_number() OVER (PARTITION BY candidates.task_name ORDER BY candidates.priority DESC, candidates.id ASC) AS task_rank,
                    row_number() OVER (PARTITION BY candidates.limit_key ORDER BY candidates.priority DESC, candidates.id ASC) AS key_rank
                FROM (
                    -- Each open queue's, by its own indexes.
                    SELECT heads.* FROM unnest(open_queues, queue_rooms) AS target(queue_name, room)
                    CROSS JOIN LATERAL (
                        SELECT job.id, job.priority, job.queue_name, target.room AS queue_room, job.task_name, keyed.limit_key, keyed.room AS key_room
                        FROM procrastinate_swift_lock_heads AS head
                        JOIN procrastinate_jobs AS job ON job.id = head.job_id
                        LEFT JOIN LATERAL procrastinate_swift_job_key_room_v1(job.id, running_keys, running_counts, claim_time) AS keyed ON true
                        WHERE head.queue_name = target.queue_name AND job.status = 'todo'
                          AND (target_task_names IS NULL OR job.task_name = ANY (target_task_names))
                          AND COALESCE(task_rooms[array_position(limited_tasks, job.task_name)], 1) > 0 AND COALESCE(keyed.room, 1) > 0
                          AND (job.scheduled_at IS NULL OR job.scheduled_at <= now())
                          AND NOT EXISTS (SELECT FROM procrastinate_jobs AS running WHERE running.lock = head.lock AND running.status = 'doing')
                        ORDER BY head.priority DESC, head.job_id ASC
                        LIMIT least(p_limit, target.room)
                        FOR UPDATE OF head, job SKIP LOCKED
                    ) AS heads
                    UNION ALL
                    SELECT unlocked.* FROM unnest(open_queues, queue_rooms) AS target(queue_name, room)
                    CROSS JOIN LATERAL (
                        SELECT job.id, job.priority, job.queue_name, target.room AS queue_room, job.task_name, keyed.limit_key, keyed.room AS key_room
                        FROM procrastinate_jobs AS job
                        LEFT JOIN LATERAL procrastinate_swift_job_key_room_v1(job.id, running_keys, running_counts, claim_time) AS keyed ON true
                        WHERE job.queue_name = target.queue_name AND job.status = 'todo' AND job.lock IS NULL
                          AND (target_task_names IS NULL OR job.task_name = ANY (target_task_names))
                          AND COALESCE(task_rooms[array_position(limited_tasks, job.task_name)], 1) > 0 AND COALESCE(keyed.room, 1) > 0
                          AND (job.scheduled_at IS NULL OR job.scheduled_at <= now())
                        ORDER BY job.priority DESC, job.id ASC
                        LIMIT least(p_limit, target.room)
                        FOR UPDATE OF job SKIP LOCKED
                    ) AS unlocked
                ) AS candidates
            ) AS ranked
            WHERE ranked.queue_rank <= ranked.queue_room
              AND ranked.task_rank <= COALESCE(task_rooms[array_position(limited_tasks, ranked.task_name)], p_limit)
              AND (ranked.limit_key IS NULL OR ranked.key_rank <= ranked.key_room)
            ORDER BY ranked.priority DESC, ranked.id ASC
            LIMIT p_limit
        ) AS chosen;
    END IF;

    keyed := EXISTS (SELECT FROM unnest(candidate_keys) AS given(limit_key) WHERE given.limit_key IS NOT NULL);
    IF keyed THEN
        PERFORM FROM procrastinate_swift_limit_keys AS key
        WHERE key.limit_key = ANY (candidate_keys)
        ORDER BY key.limit_key
        FOR NO KEY UPDATE;

        SELECT keys.limit_keys, keys.running INTO running_keys, running_counts FROM procrastinate_swift_running_keys_v1() AS keys;

        SELECT COALESCE(array_agg(ranked.id ORDER BY ranked.position), '{}'),
            COALESCE(array_agg(ranked.limit_key ORDER BY ranked.position), '{}')
        INTO candidate_ids, candidate_keys
        FROM (
            SELECT candidate.id, candidate.position, keyed.limit_key, keyed.room,
                row_number() OVER (PARTITION BY keyed.limit_key ORDER BY candidate.position) AS key_rank
            FROM unnest(candidate_ids) WITH ORDINALITY AS candidate(id, position)
            LEFT JOIN LATERAL procrastinate_swift_job_key_room_v1(candidate.id, running_keys, running_counts, claim_time) AS keyed ON true
        ) AS ranked
        WHERE ranked.limit_key IS NULL OR ranked.key_rank <= ranked.room;
    END IF;

    RETURN QUERY
    WITH started AS (
        UPDATE procrastinate_jobs AS job
        SET status = 'doing', worker_id = p_worker_id
        WHERE job.id = ANY (candidate_ids)
          AND job.status = 'todo'
          AND (job.lock IS NULL OR (
              EXISTS (SELECT FROM procrastinate_swift_lock_heads AS head WHERE head.lock = job.lock AND head.job_id = job.id)
              AND NOT EXISTS (SELECT FROM procrastinate_jobs AS running WHERE running.lock = job.lock AND running.status = 'doing')))
        RETURNING job.*
    )
    SELECT * FROM started ORDER BY started.priority DESC, started.id ASC;

    -- The candidates are this claim's (their rows are held): those running now started here.
    IF rated THEN
        UPDATE procrastinate_swift_limits AS limited
        SET starts = procrastinate_swift_rate_window_v1(limited.starts, limited.rate_count, limited.rate_period, claim_time, counted.started)
        FROM (
            SELECT 'queue' AS scope, job.queue_name AS name, count(*) AS started
            FROM procrastinate_jobs AS job WHERE job.id = ANY (candidate_ids) AND job.status = 'doing' GROUP BY job.queue_name
            UNION ALL
            SELECT 'task', job.task_name, count(*)
            FROM procrastinate_jobs AS job WHERE job.id = ANY (candidate_ids) AND job.status = 'doing' GROUP BY job.task_name
        ) AS counted
        WHERE limited.scope = counted.scope AND limited.name = counted.name AND limited.rate_count IS NOT NULL;
    END IF;
    IF keyed THEN
        UPDATE procrastinate_swift_limit_keys AS key
        SET starts = procrastinate_swift_rate_window_v1(key.starts, key.rate_count, key.rate_period, claim_time, counted.started)
        FROM (
            SELECT given.limit_key, count(*) AS started
            FROM unnest(candidate_ids, candidate_keys) AS given(id, limit_key)
            JOIN procrastinate_jobs AS job ON job.id = given.id AND job.status = 'doing'
            WHERE given.limit_key IS NOT NULL
            GROUP BY given.limit_key
        ) AS counted
        WHERE key.limit_key = counted.limit_key AND key.rate_count IS NOT NULL;
    END IF;
END;
$$;

-- Claims up to p_limit runnable jobs of the tasks named (NULL: every task) for a worker in one
-- statement, with the semantics of procrastinate_fetch_job_v2 called p_limit times: todo, in
-- the queues (NULL: any), due, highest priority then lowest id, rows locked by others skipped;
-- a job with a lock only when it heads its lock's queue (across all queues, schedules and
-- tasks: a locked job of another task still holds its lock's place) and no job of that lock
-- runs, so a batch holds at most one job per lock.
--
-- Each lock's head comes from procrastinate_swift_lock_heads, and for named queues each
-- queue's heads and unlocked jobs from its own index, so that the cost of a claim depends on
-- neither the number of locks nor the backlog of other queues.
-- Rows are locked with SKIP LOCKED before the limit, so that concurrent claims take the next
-- ones instead of coming back empty. A head's row is locked with its job, so that a claim
-- neither waits in its trigger for another writer of that lock nor claims a head whose lock
-- another claim has just started running (checked afresh once the rows are held).
-- While a limit exists, a job has a limit key or a queue is paused,
-- procrastinate_swift_fetch_limited_jobs_v1 claims instead.
CREATE FUNCTION procrastinate_swift_fetch_jobs_v2(
    target_queue_names character varying[],
    p_worker_id bigint,
    p_limit integer,
    target_task_names character varying[]
) RETURNS SETOF procrastinate_jobs LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET jit = off AS $$
DECLARE
    candidate_ids bigint[];
BEGIN
    IF EXISTS (SELECT FROM procrastinate_swift_limits) OR EXISTS (SELECT FROM procrastinate_swift_job_limit_keys)
       OR EXISTS (SELECT FROM procrastinate_swift_paused_queues) THEN
        RETURN QUERY SELECT * FROM procrastinate_swift_fetch_limited_jobs_v1(target_queue_names, p_worker_id, p_limit, target_task_names);
        RETURN;
    END IF;

    IF target_queue_names IS NULL THEN
        candidate_ids := ARRAY(
            SELECT candidates.id FROM (
                SELECT heads.id, heads.priority FROM (
                    SELECT job.id, job.priority FROM procrastinate_swift_lock_heads AS head
                    JOIN procrastinate_jobs AS job ON job.id = head.job_id
                    WHERE job.status = 'todo'
                      AND (target_task_names IS NULL OR job.task_name = ANY (target_task_names))
                      AND (job.scheduled_at IS NULL OR job.scheduled_at <= now())
                      AND NOT EXISTS (SELECT FROM procrastinate_jobs AS running WHERE running.lock = head.lock AND running.status = 'doing')
                    ORDER BY head.priority DESC, head.job_id ASC
                    LIMIT p_limit
                    FOR UPDATE OF head, job SKIP LOCKED
                ) AS heads
                UNION ALL
                SELECT unlocked.id, unlocked.priority FROM (
                    SELECT job.id, job.priority FROM procrastinate_jobs AS job
                    WHERE job.status = 'todo' AND job.lock IS NULL
                      AND (target_task_names IS NULL OR job.task_name = ANY (target_task_names))
                      AND (job.scheduled_at IS NULL OR job.scheduled_at <= now())
                    ORDER BY job.priority DESC, job.id ASC
                    LIMIT p_limit
                    FOR UPDATE OF job SKIP LOCKED
                ) AS unlocked
            ) AS candidates
            ORDER BY candidates.priority DESC, candidates.id ASC
            LIMIT p_limit
        );
    ELSE
        candidate_ids := ARRAY(
            SELECT candidates.id FROM (
                SELECT heads.id, heads.priority FROM unnest(target_queue_names) AS target(queue_name)
                CROSS JOIN LATERAL (
                    SELECT job.id, job.priority FROM procrastinate_swift_lock_heads AS head
                    JOIN procrastinate_jobs AS job ON job.id = head.job_id
                    WHERE head.queue_name = target.queue_name AND job.status = 'todo'
                      AND (target_task_names IS NULL OR job.task_name = ANY (target_task_names))
                      AND (job.scheduled_at IS NULL OR job.scheduled_at <= now())
                      AND NOT EXISTS (SELECT FROM procrastinate_jobs AS running WHERE running.lock = head.lock AND running.status = 'doing')
                    ORDER BY head.priority DESC, head.job_id ASC
                    LIMIT p_limit
                    FOR UPDATE OF head, job SKIP LOCKED
                ) AS heads
                UNION ALL
                SELECT unlocked.id, unlocked.priority FROM unnest(target_queue_names) AS target(queue_name)
                CROSS JOIN LATERAL (
                    SELECT job.id, job.priority FROM procrastinate_jobs AS job
                    WHERE job.queue_name = target.queue_name AND job.status = 'todo' AND job.lock IS NULL
                      AND (target_task_names IS NULL OR job.task_name = ANY (target_task_names))
                      AND (job.scheduled_at IS NULL OR job.scheduled_at <= now())
                    ORDER BY job.priority DESC, job.id ASC
                    LIMIT p_limit
                    FOR UPDATE OF job SKIP LOCKED
                ) AS unlocked
            ) AS candidates
            ORDER BY candidates.priority DESC, candidates.id ASC
            LIMIT p_limit
        );
    END IF;

    RETURN QUERY
    WITH started AS (
        UPDATE procrastinate_jobs AS job
        SET status = 'doing', worker_id = p_worker_id
        WHERE job.id = ANY (candidate_ids)
          AND job.status = 'todo'
          AND (job.lock IS NULL OR (
              EXISTS (SELECT FROM procrastinate_swift_lock_heads AS head WHERE head.lock = job.lock AND head.job_id = job.id)
              AND NOT EXISTS (SELECT FROM procrastinate_jobs AS running WHERE running.lock = job.lock AND running.status = 'doing')))
        RETURNING job.*
    )
    SELECT * FROM started ORDER BY started.priority DESC, started.id ASC;
END;
$$;

-- The claim of workers of the previous release (0.2.0_01 and _02): now the v2 claim of every
-- task, durable.
CREATE FUNCTION procrastinate_swift_fetch_jobs_v1(
    target_queue_names character varying[],
    p_worker_id bigint,
    p_limit integer
) RETURNS SETOF procrastinate_jobs LANGUAGE sql AS $$
    SELECT * FROM procrastinate_swift_fetch_jobs_v2(target_queue_names, p_worker_id, p_limit, NULL)
$$;

-- procrastinate_swift_finish_jobs_v3 then procrastinate_swift_fetch_jobs_v2 in one transaction:
-- the room the outcomes free goes straight to the next jobs (a lock's next job, a limit's
-- share), and what the claim did not take is announced to the other workers. Returns the
-- claimed jobs, then one row per outcome left alone holding only its id (its status is NULL).
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
    freeing character varying[];
    freed integer;
    claimed integer := 0;
BEGIN
    SELECT COALESCE(array_agg(recorded.finished_id), '{}'),
        COALESCE(array_agg(DISTINCT recorded.finished_queue) FILTER (WHERE recorded.frees_room), '{}'),
        count(*) FILTER (WHERE recorded.frees_room)
    INTO finished, freeing, freed
    FROM procrastinate_swift_finish_jobs_v3(
        job_ids, job_attempts, end_statuses, delete_jobs, retry_ats, new_priorities, new_queue_names, new_locks) AS recorded;
    IF p_limit > 0 THEN
        RETURN QUERY SELECT * FROM procrastinate_swift_fetch_jobs_v2(target_queue_names, p_worker_id, p_limit, target_task_names);
        GET DIAGNOSTICS claimed = ROW_COUNT;
    END IF;
    IF claimed < freed THEN
        PERFORM procrastinate_swift_notify_room_freed_v1(freeing);
    END IF;
    RETURN QUERY
    SELECT (jsonb_populate_record(NULL::procrastinate_jobs, jsonb_build_object('id', given.id))).*
    FROM unnest(job_ids) AS given(id)
    WHERE given.id <> ALL (finished);
END;
$$;

-- The waiting jobs scheduled for later, by time.
CREATE INDEX IF NOT EXISTS procrastinate_swift_jobs_scheduled_idx ON procrastinate_jobs (scheduled_at)
    WHERE status = 'todo' AND scheduled_at IS NOT NULL;

-- Seconds from now until an idle worker should look again, or NULL: the earliest waiting job
-- of the given queues and tasks (NULL: any) scheduled later than p_after, or the earliest
-- moment after p_after that a full rate window of those queues, tasks or any key lets a job
-- start. The worker passes when its fetch that found nothing began: a job that became due
-- since answers zero or less (run it now), one due before (blocked by its lock) does not
-- count. An instant rather than a duration, so that however long the question waits for a
-- connection, what became due meanwhile still counts.
CREATE FUNCTION procrastinate_swift_next_scheduled_job_v2(
    target_queue_names character varying[],
    target_task_names character varying[],
    p_after timestamp with time zone
) RETURNS double precision LANGUAGE sql STABLE AS $$
    SELECT min(due.seconds) FROM (
        (SELECT extract(epoch FROM job.scheduled_at - now())::double precision AS seconds
         FROM procrastinate_jobs AS job
         WHERE job.status = 'todo' AND job.scheduled_at IS NOT NULL
           AND job.scheduled_at > p_after
           AND (target_queue_names IS NULL OR job.queue_name = ANY (target_queue_names))
           AND (target_task_names IS NULL OR job.task_name = ANY (target_task_names))
         ORDER BY job.scheduled_at
         LIMIT 1)
        UNION ALL
        SELECT extract(epoch FROM opening.at - clock_timestamp())::double precision
        FROM (
            SELECT procrastinate_swift_rate_opening_v1(limited.rate_count, limited.rate_period, limited.rate_burst, limited.starts) AS at
            FROM procrastinate_swift_limits AS limited
            WHERE limited.rate_count IS NOT NULL
              AND ((limited.scope = 'queue' AND (target_queue_names IS NULL OR limited.name = ANY (target_queue_names)))
                   OR (limited.scope = 'task' AND (target_task_names IS NULL OR limited.name = ANY (target_task_names))))
            UNION ALL
            SELECT procrastinate_swift_rate_opening_v1(key.rate_count, key.rate_period, key.rate_burst, key.starts)
            FROM procrastinate_swift_limit_keys AS key
            WHERE key.rate_count IS NOT NULL
        ) AS opening
        WHERE opening.at > p_after
    ) AS due
$$;

-- The question of workers of the previous release, in seconds before the statement.
CREATE FUNCTION procrastinate_swift_next_scheduled_job_v1(
    target_queue_names character varying[],
    target_task_names character varying[],
    since_seconds double precision
) RETURNS double precision LANGUAGE sql STABLE AS $$
    SELECT procrastinate_swift_next_scheduled_job_v2(target_queue_names, target_task_names, now() - make_interval(secs => since_seconds))
$$;

-- Defers one tick of a periodic task, unless some scheduler deferred it before; returns the
-- new job's id, or NULL when the tick is not deferred. The rule (PeriodicTickRecord in the
-- Swift sources): a tick is deferred once, and never when it is older than the oldest tick
-- recorded for its schedule (older records than p_retention seconds before this tick are
-- forgotten). Schedulers of one schedule decide one at a time (an advisory lock per
-- schedule); the tick's own record is looked for in a snapshot taken after that lock, not
-- left to ON CONFLICT: a Python scheduler that defers a newer tick meanwhile deletes it, and
-- the insert would then go through.
CREATE FUNCTION procrastinate_swift_defer_periodic_job_v1(
    p_queue_name character varying,
    p_task_name character varying,
    p_priority integer,
    p_lock text,
    p_queueing_lock text,
    p_args jsonb,
    p_periodic_id character varying,
    p_defer_timestamp bigint,
    p_retention bigint
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_defer_id bigint;
    v_job_id bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(p_task_name || '/' || p_periodic_id));
    INSERT INTO procrastinate_periodic_defers (task_name, periodic_id, defer_timestamp)
    SELECT p_task_name, p_periodic_id, p_defer_timestamp
    WHERE NOT EXISTS (
        SELECT FROM procrastinate_periodic_defers
        WHERE task_name = p_task_name AND periodic_id = p_periodic_id AND defer_timestamp = p_defer_timestamp
    ) AND p_defer_timestamp >= COALESCE((
        SELECT min(defer_timestamp) FROM procrastinate_periodic_defers
        WHERE task_name = p_task_name AND periodic_id = p_periodic_id
    ), p_defer_timestamp)
    ON CONFLICT DO NOTHING
    RETURNING id INTO v_defer_id;
    IF v_defer_id IS NULL THEN
        RETURN NULL;
    END IF;
    v_job_id := (procrastinate_defer_jobs_v1(ARRAY[ROW(p_queue_name, p_task_name, p_priority, p_lock, p_queueing_lock,
        p_args, NULL)::procrastinate_job_to_defer_v1]))[1];
    DELETE FROM procrastinate_periodic_defers
    WHERE task_name = p_task_name AND periodic_id = p_periodic_id AND defer_timestamp < p_defer_timestamp - p_retention;
    UPDATE procrastinate_periodic_defers SET job_id = v_job_id WHERE id = v_defer_id;
    RETURN v_job_id;
END;
$$;

-- The jobs matching every criterion given (NULL: any): the one filter of job listings and
-- counts.
CREATE FUNCTION procrastinate_swift_jobs_v1(
    p_id bigint,
    p_queue_name character varying,
    p_task_name character varying,
    p_status procrastinate_job_status,
    p_lock character varying,
    p_queueing_lock character varying,
    p_worker_id bigint
) RETURNS SETOF procrastinate_jobs LANGUAGE sql STABLE AS $$
    SELECT job.* FROM procrastinate_jobs AS job
    WHERE (p_id IS NULL OR job.id = p_id)
      AND (p_queue_name IS NULL OR job.queue_name = p_queue_name)
      AND (p_task_name IS NULL OR job.task_name = p_task_name)
      AND (p_status IS NULL OR job.status = p_status)
      AND (p_lock IS NULL OR job.lock = p_lock)
      AND (p_queueing_lock IS NULL OR job.queueing_lock = p_queueing_lock)
      AND (p_worker_id IS NULL OR job.worker_id = p_worker_id)
$$;

-- procrastinate_swift_finish_jobs_and_fetch_v2 in a procedure that commits before it answers
-- (CALL it outside a transaction block). A worker acknowledges an outcome or runs a claimed job
-- only once it is durable: a statement outside a transaction block commits at the Sync message
-- after its rows, which a client may not wait for, and a transaction block around it costs two
-- round trips more (BEGIN, COMMIT). Outcomes and claims come and go as arrays: the ids of the
-- outcomes left alone, then each column of the claimed jobs, best first (empty arrays when
-- none).
CREATE PROCEDURE procrastinate_swift_finish_and_claim_v1(
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
    target_task_names character varying[],
    INOUT left_alone bigint[] DEFAULT NULL,
    INOUT ids bigint[] DEFAULT NULL,
    INOUT queue_names text[] DEFAULT NULL,
    INOUT task_names text[] DEFAULT NULL,
    INOUT priorities integer[] DEFAULT NULL,
    INOUT locks text[] DEFAULT NULL,
    INOUT queueing_locks text[] DEFAULT NULL,
    INOUT args text[] DEFAULT NULL,
    INOUT scheduled_ats timestamp with time zone[] DEFAULT NULL,
    INOUT attempts integer[] DEFAULT NULL,
    INOUT abort_requests boolean[] DEFAULT NULL,
    INOUT worker_ids bigint[] DEFAULT NULL
) LANGUAGE plpgsql AS $$
BEGIN
    SELECT
        COALESCE(array_agg(result.id ORDER BY result.position) FILTER (WHERE result.status IS NULL), '{}'),
        COALESCE(array_agg(result.id ORDER BY result.position) FILTER (WHERE result.status IS NOT NULL), '{}'),
        COALESCE(array_agg(result.queue_name ORDER BY result.position) FILTER (WHERE result.status IS NOT NULL), '{}'),
        COALESCE(array_agg(result.task_name ORDER BY result.position) FILTER (WHERE result.status IS NOT NULL), '{}'),
        COALESCE(array_agg(result.priority ORDER BY result.position) FILTER (WHERE result.status IS NOT NULL), '{}'),
        COALESCE(array_agg(result.lock ORDER BY result.position) FILTER (WHERE result.status IS NOT NULL), '{}'),
        COALESCE(array_agg(result.queueing_lock ORDER BY result.position) FILTER (WHERE result.status IS NOT NULL), '{}'),
        COALESCE(array_agg(result.args::text ORDER BY result.position) FILTER (WHERE result.status IS NOT NULL), '{}'),
        COALESCE(array_agg(result.scheduled_at ORDER BY result.position) FILTER (WHERE result.status IS NOT NULL), '{}'),
        COALESCE(array_agg(result.attempts ORDER BY result.position) FILTER (WHERE result.status IS NOT NULL), '{}'),
        COALESCE(array_agg(result.abort_requested ORDER BY result.position) FILTER (WHERE result.status IS NOT NULL), '{}'),
        COALESCE(array_agg(result.worker_id ORDER BY result.position) FILTER (WHERE result.status IS NOT NULL), '{}')
    INTO left_alone, ids, queue_names, task_names, priorities, locks, queueing_locks, args, scheduled_ats, attempts,
        abort_requests, worker_ids
    FROM procrastinate_swift_finish_jobs_and_fetch_v2(
        job_ids, job_attempts, end_statuses, delete_jobs, retry_ats, new_priorities, new_queue_names, new_locks,
        target_queue_names, p_worker_id, p_limit, target_task_names
    ) WITH ORDINALITY AS result(id, queue_name, task_name, priority, lock, queueing_lock, args, status, scheduled_at,
        attempts, abort_requested, worker_id, position);
    COMMIT;
END;
$$;

-- The running jobs of a queue (NULL: any) whose abort was requested: what a worker polls for
-- when notifications may be off or lost.
CREATE FUNCTION procrastinate_swift_jobs_to_abort_v1(p_queue_name character varying)
RETURNS SETOF bigint LANGUAGE sql STABLE AS $$
    SELECT job.id FROM procrastinate_jobs AS job
    WHERE job.status = 'doing' AND job.abort_requested
      AND (p_queue_name IS NULL OR job.queue_name = p_queue_name)
$$;

-- Deletes the jobs in one of `end_statuses` (of a queue, if given) whose latest event is older
-- than `hours`, with their events; returns their ids. In one statement: what workers of
-- 0.2.0_07 call. Later ones prune in batches (procrastinate_swift_prune_jobs_v1).
CREATE FUNCTION procrastinate_swift_delete_old_jobs_v1(
    hours double precision,
    end_statuses procrastinate_job_status[],
    p_queue_name character varying
) RETURNS SETOF bigint LANGUAGE sql AS $$
    DELETE FROM procrastinate_jobs AS job
    WHERE job.status = ANY (end_statuses)
      AND (p_queue_name IS NULL OR job.queue_name = p_queue_name)
      AND (SELECT max(event.at) FROM procrastinate_events AS event WHERE event.job_id = job.id)
          < now() - make_interval(secs => hours * 3600)
    RETURNING job.id
$$;

-- Deletes, among the first `batch_size` jobs after id `after_id`, those in one of
-- `end_statuses` (of a queue, if given) whose latest event is older than
-- `older_than_seconds`, with their events; jobs without events stay. Returns how many it
-- deleted and the last id it examined (NULL: no job after `after_id`), where the next batch
-- starts. A batch reads and locks at most `batch_size` rows, whatever the table's size.
CREATE FUNCTION procrastinate_swift_prune_jobs_v1(
    end_statuses procrastinate_job_status[],
    older_than_seconds double precision,
    p_queue_name character varying,
    after_id bigint,
    batch_size integer,
    OUT deleted integer,
    OUT last_examined_id bigint
) LANGUAGE plpgsql AS $$
BEGIN
    WITH examined AS (
        SELECT job.id FROM procrastinate_jobs AS job
        WHERE job.id > after_id
        ORDER BY job.id
        LIMIT batch_size
    ), doomed AS (
        SELECT job.id FROM procrastinate_jobs AS job
        WHERE job.id IN (SELECT examined.id FROM examined)
          AND job.status = ANY (end_statuses)
          AND (p_queue_name IS NULL OR job.queue_name = p_queue_name)
          AND (SELECT max(event.at) FROM procrastinate_events AS event WHERE event.job_id = job.id)
              < now() - make_interval(secs => older_than_seconds)
        FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM procrastinate_jobs AS job
        WHERE job.id IN (SELECT doomed.id FROM doomed)
        RETURNING job.id
    )
    SELECT (SELECT count(*) FROM gone), (SELECT max(examined.id) FROM examined) INTO deleted, last_examined_id;
END;
$$;

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

-- Waiting jobs of the queues and tasks given (NULL: any) held back by a queue, task or key
-- limit without room now, counted up to 10,000 per limit (a job behind two full limits counts
-- twice): what a worker reports as its jobs delayed by limits.
CREATE FUNCTION procrastinate_swift_delayed_jobs_v1(
    target_queue_names character varying[],
    target_task_names character varying[]
) RETURNS bigint LANGUAGE sql STABLE AS $$
    WITH running_keys AS (
        SELECT * FROM procrastinate_swift_running_keys_v1()
    ), full_limits AS (
        SELECT limited.scope, limited.name FROM procrastinate_swift_limits AS limited
        WHERE procrastinate_swift_limit_room_v1(limited.max_running, limited.rate_count, limited.rate_period, limited.rate_burst, limited.starts,
            CASE limited.scope
                WHEN 'queue' THEN (SELECT count(*) FROM procrastinate_jobs AS job WHERE job.status = 'doing' AND job.queue_name = limited.name)
                ELSE (SELECT count(*) FROM procrastinate_jobs AS job WHERE job.status = 'doing' AND job.task_name = limited.name)
            END,
            clock_timestamp()) <= 0
    ), full_keys AS (
        SELECT key.limit_key FROM procrastinate_swift_limit_keys AS key CROSS JOIN running_keys
        WHERE procrastinate_swift_limit_room_v1(key.max_running, key.rate_count, key.rate_period, key.rate_burst, key.starts,
            COALESCE(running_keys.running[array_position(running_keys.limit_keys, key.limit_key)], 0), clock_timestamp()) <= 0
    )
    SELECT COALESCE(sum(delayed.count), 0)::bigint FROM (
        SELECT CASE full_limits.scope
            WHEN 'queue' THEN (SELECT count(*) FROM (
                SELECT FROM procrastinate_jobs AS job
                WHERE job.status = 'todo' AND job.queue_name = full_limits.name
                  AND (target_queue_names IS NULL OR job.queue_name = ANY (target_queue_names))
                  AND (target_task_names IS NULL OR job.task_name = ANY (target_task_names))
                LIMIT 10000) AS waiting)
            ELSE (SELECT count(*) FROM (
                SELECT FROM procrastinate_jobs AS job
                WHERE job.status = 'todo' AND job.task_name = full_limits.name
                  AND (target_queue_names IS NULL OR job.queue_name = ANY (target_queue_names))
                  AND (target_task_names IS NULL OR job.task_name = ANY (target_task_names))
                LIMIT 10000) AS waiting)
            END AS count
        FROM full_limits
        UNION ALL
        SELECT (SELECT count(*) FROM (
                    SELECT FROM procrastinate_swift_job_limit_keys AS job_key
                    JOIN procrastinate_jobs AS job ON job.id = job_key.job_id
                    WHERE job_key.limit_key = full_keys.limit_key AND job.status = 'todo'
                      AND (target_queue_names IS NULL OR job.queue_name = ANY (target_queue_names))
                      AND (target_task_names IS NULL OR job.task_name = ANY (target_task_names))
                    LIMIT 10000) AS waiting)
        FROM full_keys
    ) AS delayed
$$;

-- Pauses a queue for every Swift worker: no claim takes its jobs until it is resumed (running
-- jobs finish). Returns false when it was paused already.
CREATE FUNCTION procrastinate_swift_pause_queue_v1(p_queue_name character varying)
RETURNS boolean LANGUAGE sql AS $$
    WITH paused AS (
        INSERT INTO procrastinate_swift_paused_queues (queue_name) VALUES (p_queue_name)
        ON CONFLICT (queue_name) DO NOTHING
        RETURNING queue_name
    )
    SELECT EXISTS (SELECT FROM paused)
$$;

-- Resumes a paused queue and wakes the workers listening for it. Returns false when it was not
-- paused.
CREATE FUNCTION procrastinate_swift_resume_queue_v1(p_queue_name character varying)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM procrastinate_swift_paused_queues WHERE queue_name = p_queue_name;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM pg_notify('procrastinate_queue_v1#' || p_queue_name, json_build_object('type', 'queue_resumed', 'queue', p_queue_name)::text);
    PERFORM pg_notify('procrastinate_any_queue_v1', json_build_object('type', 'queue_resumed', 'queue', p_queue_name)::text);
    RETURN true;
END;
$$;

-- The error of each attempt that ended in a failure or a retry: the error's type and its
-- message (the worker bounds them, JobError.Cause). attempt: 1 for the job's first run.
CREATE TABLE procrastinate_swift_job_errors (
    job_id bigint NOT NULL REFERENCES procrastinate_jobs (id) ON DELETE CASCADE,
    attempt integer NOT NULL CHECK (attempt >= 1),
    at timestamp with time zone NOT NULL DEFAULT now(),
    error_type text NOT NULL,
    message text NOT NULL,
    PRIMARY KEY (job_id, attempt)
);

-- Records the errors of attempts, each while its job still runs in that attempt (job_attempts:
-- the job's attempts when it was claimed), so that a worker that lost its job to stalled-job
-- recovery records nothing over the next attempt. A worker calls it before the outcomes.
CREATE FUNCTION procrastinate_swift_record_job_errors_v1(
    job_ids bigint[],
    job_attempts integer[],
    error_types text[],
    messages text[]
) RETURNS void LANGUAGE sql AS $$
    INSERT INTO procrastinate_swift_job_errors AS recorded (job_id, attempt, error_type, message)
    SELECT given.id, given.attempts + 1, given.error_type, given.message
    FROM unnest(job_ids, job_attempts, error_types, messages) AS given(id, attempts, error_type, message)
    JOIN procrastinate_jobs AS job ON job.id = given.id AND job.status = 'doing' AND job.attempts = given.attempts
    ON CONFLICT (job_id, attempt) DO UPDATE
    SET at = now(), error_type = excluded.error_type, message = excluded.message
$$;

-- Tells every listening Swift worker that room was freed by jobs of these queues. One channel
-- of its own, which every Swift worker listens on whatever its queues: the room a job frees
-- may serve a job of another queue (a task's or a key's limit spans queues).
CREATE FUNCTION procrastinate_swift_notify_room_freed_v1(p_queue_names character varying[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    queue character varying;
BEGIN
    FOREACH queue IN ARRAY p_queue_names LOOP
        PERFORM pg_notify('procrastinate_swift_room_freed_v1', json_build_object('type', 'room_freed', 'queue', queue)::text);
    END LOOP;
END;
$$;

-- Records outcomes, retries included (todo: the rows and events of procrastinate_retry_job_v2;
-- a job whose abort was requested fails instead), fenced: a job is touched only while it runs
-- in the attempt it was claimed in (NULL: any). Says of each job recorded its queue and whether
-- its end frees room: it had a lock, it went back to the queue, or a concurrency limit counted
-- it (read only while such a limit exists). It replaces procrastinate_swift_finish_jobs_v2
-- (dropped by 0.2.0_13), whose rule it holds.
CREATE FUNCTION procrastinate_swift_finish_jobs_v3(
    job_ids bigint[],
    job_attempts integer[],
    end_statuses procrastinate_job_status[],
    delete_jobs boolean[],
    retry_ats timestamp with time zone[],
    new_priorities integer[],
    new_queue_names character varying[],
    new_locks character varying[]
) RETURNS TABLE (finished_id bigint, finished_queue character varying, frees_room boolean)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    has_limits boolean := EXISTS (SELECT FROM procrastinate_swift_limits AS limited WHERE limited.max_running IS NOT NULL);
    has_keys boolean := EXISTS (SELECT FROM procrastinate_swift_limit_keys AS key WHERE key.max_running IS NOT NULL);
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
        RETURNING job.id, job.queue_name, job.task_name, job.lock, job.status
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
        RETURNING job.id, job.queue_name, job.task_name, job.lock, job.status
    ), recorded AS (
        SELECT * FROM deleted
        UNION ALL
        SELECT * FROM updated
    )
    SELECT recorded.id, recorded.queue_name,
        recorded.lock IS NOT NULL OR recorded.status = 'todo'
        OR (has_limits AND EXISTS (
            SELECT FROM procrastinate_swift_limits AS limited
            WHERE limited.max_running IS NOT NULL
              AND ((limited.scope = 'queue' AND limited.name = recorded.queue_name)
                   OR (limited.scope = 'task' AND limited.name = recorded.task_name))))
        OR (has_keys AND EXISTS (
            SELECT FROM procrastinate_swift_job_limit_keys AS job_key
            JOIN procrastinate_swift_limit_keys AS key ON key.limit_key = job_key.limit_key
            WHERE job_key.job_id = recorded.id AND key.max_running IS NOT NULL))
    FROM recorded;
END;
$$;

-- A job back in the queue by hand (procrastinate_retry_job_v2 of a finished job), and a
-- cancelled lock head (its lock's next job becomes the head): the workers claim them now. The
-- worker's own writes announce their room themselves (procrastinate_swift_finish_jobs_and_fetch_v2).
CREATE FUNCTION procrastinate_swift_notify_room_freed_trigger_v1()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM procrastinate_swift_notify_room_freed_v1(ARRAY[NEW.queue_name]);
    RETURN NEW;
END;
$$;

CREATE TRIGGER procrastinate_swift_notify_room_freed_v1
    AFTER UPDATE OF status ON procrastinate_jobs
    FOR EACH ROW WHEN ((OLD.status NOT IN ('todo', 'doing') AND NEW.status = 'todo')
                       OR (OLD.status = 'todo' AND NEW.status = 'cancelled' AND OLD.lock IS NOT NULL))
    EXECUTE FUNCTION procrastinate_swift_notify_room_freed_trigger_v1();

INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_01_pre_add_swift_batched_fetch_and_finish');
INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_02_pre_add_swift_finish_and_fetch');
INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_03_pre_add_swift_worker_leases');
INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_04_pre_add_swift_next_scheduled_job');
INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_05_pre_add_swift_periodic_tick_and_job_filter');
INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_06_pre_add_swift_finish_and_claim_procedure');
INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_07_pre_add_swift_abort_and_retention_rules');
INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_08_pre_add_swift_lock_heads');
INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_09_pre_add_swift_batched_retention');
INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_10_pre_add_swift_defer_procedure');
INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_11_pre_add_swift_limits');
INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_12_pre_add_swift_job_errors');
INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_13_pre_add_swift_room_notifications');
