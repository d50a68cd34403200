-- Procrastinate for Swift: a worker's outcomes and claims in one round trip, durable.
--
-- Additive only: Python workers and the functions of earlier migrations are unaffected.

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

INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_06_pre_add_swift_finish_and_claim_procedure');
