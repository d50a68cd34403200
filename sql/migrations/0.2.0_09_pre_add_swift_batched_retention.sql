-- Procrastinate for Swift: retention in batches that hold their locks briefly.
--
-- Additive only: Python workers and their own queries are unaffected.

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

INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_09_pre_add_swift_batched_retention');
