-- Procrastinate for Swift: concurrency limits, rate limits and paused queues, enforced in the
-- claim across every Swift worker on the database.
--
-- Additive (a "pre" migration): the 3.10 objects are unchanged. Python workers claim through
-- procrastinate_fetch_job_v2 and know nothing of these tables: limited tasks and paused queues
-- bind Swift workers only.
--
-- * A limit applies to a queue, a task, or a limit key (a string a job is deferred with, such
--   as a tenant): at most max_running of its jobs 'doing' at once, and at most rate_count
--   starts in any rate_period seconds (a sliding window over the times of its latest starts),
--   paced: at most rate_burst of them in any rate_period * rate_burst / rate_count seconds.
-- * A claim holds the rows of the limits it may use (FOR NO KEY UPDATE, in one order: queue
--   and task limits, then keys), then counts their running jobs in a snapshot taken after
--   that: two claims never see the same room. Running jobs count where they are: a job leaves
--   its limits when it ends, is retried, or stalled-job recovery takes it from a dead worker.
-- * Jobs that wait for room hold no slot and are passed over: a claim takes the next jobs
--   whose limits have room.

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

-- The claim of 0.2.0_08, unchanged, while no limit exists, no job has a limit key and no queue
-- is paused; otherwise procrastinate_swift_fetch_limited_jobs_v1.
CREATE OR REPLACE FUNCTION procrastinate_swift_fetch_jobs_v2(
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
CREATE OR REPLACE FUNCTION procrastinate_swift_next_scheduled_job_v1(
    target_queue_names character varying[],
    target_task_names character varying[],
    since_seconds double precision
) RETURNS double precision LANGUAGE sql STABLE AS $$
    SELECT procrastinate_swift_next_scheduled_job_v2(target_queue_names, target_task_names, now() - make_interval(secs => since_seconds))
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

INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_11_pre_add_swift_limits');
