-- Procrastinate for Swift: the error of each failed attempt of a job.
--
-- Additive (a "pre" migration): the 3.10 objects are unchanged, and Python workers record
-- nothing here. A job's errors go with it (retention, deletion).

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

INSERT INTO procrastinate_swift_migrations (name) VALUES ('0.2.0_12_pre_add_swift_job_errors');
