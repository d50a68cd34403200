-- Procrastinate for Swift: the periodic tick rule and the job filter as functions of the schema.
--
-- Additive only: Python schedulers keep calling procrastinate_defer_periodic_job_v2, and see
-- the ticks this function records (it writes procrastinate_periodic_defers as that one does).

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

INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_05_pre_add_swift_periodic_tick_and_job_filter');
