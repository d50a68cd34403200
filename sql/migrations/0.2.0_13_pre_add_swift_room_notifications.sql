-- Procrastinate for Swift: the room a job frees is taken at once, by whichever worker can use
-- it, rather than at the next poll.
--
-- Additive (a "pre" migration): the 3.10 objects are unchanged. Python workers ignore the new
-- notification (they act on job_inserted and abort_job_requested only).
--
-- A job's end frees room when it had a lock (the lock's next job may start), counted against a
-- concurrency limit (its queue's, its task's or its key's), or went back to the queue (a
-- retry). The worker that records the end claims in the same transaction for the slots it
-- frees; room it did not take (it was stopping, full, or reads other queues) is announced by
-- {"type" : "room_freed", "queue" : "emails"} on the channel procrastinate_swift_room_freed_v1,
-- and the listening workers claim it. So are a cancelled lock head (its lock's next
-- job becomes the head), a job retried by hand, and a stalled job recovered.

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
-- (dropped below), whose rule it holds.
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

-- procrastinate_swift_finish_jobs_v3 then procrastinate_swift_fetch_jobs_v2 in one transaction:
-- the room the outcomes free goes straight to the next jobs (a lock's next job, a limit's
-- share), and what the claim did not take is announced to the other workers. Returns the
-- claimed jobs, then one row per outcome left alone holding only its id (its status is NULL).
CREATE OR REPLACE FUNCTION procrastinate_swift_finish_jobs_and_fetch_v2(
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

-- procrastinate_swift_recover_stalled_job_v1 of 0.2.0_03, announcing the room it frees.
CREATE OR REPLACE FUNCTION procrastinate_swift_recover_stalled_job_v1(
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

-- Its rule is procrastinate_swift_finish_jobs_v3's now; nothing calls it.
DROP FUNCTION procrastinate_swift_finish_jobs_v2(
    bigint[], integer[], procrastinate_job_status[], boolean[], timestamp with time zone[], integer[], character varying[],
    character varying[]);

INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_13_pre_add_swift_room_notifications');
