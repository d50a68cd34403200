-- Procrastinate for Swift: the abort and retention rules as functions of the schema.
--
-- Additive only: Python workers and their own queries are unaffected.

-- The running jobs of a queue (NULL: any) whose abort was requested: what a worker polls for
-- when notifications may be off or lost.
CREATE FUNCTION procrastinate_swift_jobs_to_abort_v1(p_queue_name character varying)
RETURNS SETOF bigint LANGUAGE sql STABLE AS $$
    SELECT job.id FROM procrastinate_jobs AS job
    WHERE job.status = 'doing' AND job.abort_requested
      AND (p_queue_name IS NULL OR job.queue_name = p_queue_name)
$$;

-- Deletes the jobs in one of `end_statuses` (of a queue, if given) whose latest event is older
-- than `hours`, with their events; returns their ids.
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

INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_07_pre_add_swift_abort_and_retention_rules');
