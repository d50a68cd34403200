import Foundation
import PostgresNIO

extension PostgresConnector: Connector {
    // MARK: Deferring

    public func deferJobs(_ jobs: [NewJob]) async throws -> [Int64] {
        try await withConnection { connection in
            try await Self.deferJobs(jobs, on: connection, logger: logger, endpoint: endpoint)
        }
    }

    /// Inserts jobs on `connection`, which may be inside the caller's transaction: the jobs
    /// then exist only if that transaction commits.
    ///
    /// - Throws: ``AlreadyEnqueued`` when a queueing lock is taken (nothing is inserted).
    public static func deferJobs(
        _ jobs: [NewJob], on connection: PostgresConnection, logger: Logger, endpoint: String = "PostgreSQL"
    ) async throws -> [Int64] {
        for job in jobs {
            try InvalidQueueName.check(job.queue)
        }
        do {
            if jobs.count == 1 {
                // One job, the common case: a prepared statement with plain parameters.
                var ids: [Int64] = []
                for try await id in try await connection.execute(DeferJobStatement(job: jobs[0]), logger: logger) {
                    ids.append(id)
                }
                return ids
            }
            return try await connection.query(DeferJobStatement.batchQuery(jobs), logger: logger)
                .decode(Int64.self).all()
        } catch {
            throw Self.describing(error, endpoint: endpoint)
        }
    }

    public func deferPeriodicJob(_ job: NewJob, periodicID: String, timestamp: Int64) async throws -> Int64? {
        try InvalidQueueName.check(job.queue)
        // The rule of `PeriodicTickRecord`, under a lock per schedule so that our schedulers
        // decide one at a time; records are written as procrastinate_defer_periodic_job_v2
        // writes them, so Python schedulers see our ticks too. The tick's own record is looked
        // for in the statement's snapshot, not left to ON CONFLICT: a Python scheduler that
        // defers a newer tick meanwhile deletes it, and the insert would then go through.
        return try await withTransaction { connection in
            try await connection.query(
                "SELECT pg_advisory_xact_lock(hashtext(\(job.taskName) || '/' || \(periodicID)))", logger: logger
            )
            let claimed = try await connection.query(
                """
                INSERT INTO procrastinate_periodic_defers (task_name, periodic_id, defer_timestamp)
                SELECT \(job.taskName), \(periodicID), \(timestamp)
                WHERE NOT EXISTS (
                    SELECT FROM procrastinate_periodic_defers
                    WHERE task_name = \(job.taskName) AND periodic_id = \(periodicID) AND defer_timestamp = \(timestamp)
                ) AND \(timestamp) >= COALESCE((
                    SELECT min(defer_timestamp) FROM procrastinate_periodic_defers
                    WHERE task_name = \(job.taskName) AND periodic_id = \(periodicID)
                ), \(timestamp))
                ON CONFLICT DO NOTHING
                RETURNING id
                """,
                logger: logger
            )
            var deferID: Int64?
            for try await id in claimed.decode(Int64.self) {
                deferID = id
            }
            guard let deferID else { return nil }
            let rows = try await connection.query(
                """
                WITH job AS (
                    SELECT (procrastinate_defer_jobs_v1(ARRAY[ROW(\(job.queue), \(job.taskName), \(Int32(clamping: job.priority)),
                        \(job.lock), \(job.queueingLock), \(job.arguments)::jsonb, NULL)::procrastinate_job_to_defer_v1]))[1] AS id
                ), forgotten AS (
                    DELETE FROM procrastinate_periodic_defers
                    WHERE task_name = \(job.taskName) AND periodic_id = \(periodicID)
                        AND defer_timestamp < \(timestamp - PeriodicTickRecord.retention)
                )
                UPDATE procrastinate_periodic_defers SET job_id = job.id FROM job
                WHERE procrastinate_periodic_defers.id = \(deferID)
                RETURNING job.id
                """,
                logger: logger
            )
            for try await id in rows.decode(Int64.self) {
                return id
            }
            return nil
        }
    }

    // MARK: Working

    public func fetchJob(queues: [String]?, workerID: Int64?) async throws -> Job? {
        try await withConnection { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: Self.jobColumns) FROM procrastinate_fetch_job_v2(\(queues)::varchar[], \(workerID)) WHERE id IS NOT NULL",
                logger: logger
            )
            return try await Self.jobs(rows).first
        }
    }

    public func fetchJobs(queues: [String]?, workerID: Int64?, limit: Int) async throws -> [Job] {
        // Ours even for one job: procrastinate_fetch_job_v2's lock check slows down with the
        // backlog of each lock.
        guard hasSwiftFunctions else {
            return try await fetchJob(queues: queues, workerID: workerID).map { [$0] } ?? []
        }
        do {
            return try await withConnection { connection in
                try await connection.execute(FetchJobsStatement(queues: queues, workerID: workerID, limit: limit), logger: logger).all()
            }
        } catch SchemaError.missing {
            noteMissingSwiftFunctions()
            return try await fetchJobs(queues: queues, workerID: workerID, limit: limit)
        }
    }

    public func finishJobs(_ outcomes: [JobOutcome]) async throws -> [Int64] {
        guard outcomes.count > 1, hasSwiftFunctions else {
            var leftAlone: [Int64] = []
            for outcome in outcomes {
                do {
                    try await finishJob(id: outcome.jobID, status: outcome.status, deleteJob: outcome.deleteJob)
                } catch is InvalidJobState {
                    leftAlone.append(outcome.jobID)
                }
            }
            return leftAlone
        }
        do {
            let finished = try await withConnection { connection in
                try await connection.execute(FinishJobsStatement(outcomes: outcomes), logger: logger).all()
            }
            let written = Set(finished)
            return outcomes.map(\.jobID).filter { !written.contains($0) }
        } catch SchemaError.missing {
            noteMissingSwiftFunctions()
            return try await finishJobs(outcomes)
        }
    }

    public func finishJobs(
        _ outcomes: [JobOutcome], thenFetch queues: [String]?, workerID: Int64?, limit: Int
    ) async throws -> (leftAlone: [Int64], fetched: [Job]) {
        guard hasSwiftFunctions else {
            // Python's schema: finished, then fetched.
            let leftAlone = try await finishJobs(outcomes)
            return (leftAlone, try await fetchJobs(queues: queues, workerID: workerID, limit: limit))
        }
        do {
            return try await withConnection { connection in
                var result: (leftAlone: [Int64], fetched: [Job]) = ([], [])
                let statement = FinishJobsAndFetchStatement(outcomes: outcomes, queues: queues, workerID: workerID, limit: limit)
                for try await row in try await connection.execute(statement, logger: logger) {
                    switch row {
                    case .leftAlone(let id): result.leftAlone.append(id)
                    case .fetched(let job): result.fetched.append(job)
                    }
                }
                return result
            }
        } catch SchemaError.missing {
            noteMissingSwiftFunctions()
            return try await finishJobs(outcomes, thenFetch: queues, workerID: workerID, limit: limit)
        }
    }

    public func finishJob(id: Int64, status: JobStatus, deleteJob: Bool) async throws {
        try await execute(
            "SELECT procrastinate_finish_job_v1(\(id), \(status.rawValue)::procrastinate_job_status, \(deleteJob))", jobID: id
        )
    }

    public func retryJob(id: Int64, at date: Date, priority: Int?, queue: String?, lock: String?) async throws {
        if let queue { try InvalidQueueName.check(queue) }
        try await execute(
            "SELECT procrastinate_retry_job_v2(\(id), \(date), \(priority.map { Int32(clamping: $0) }), \(queue), \(lock))", jobID: id
        )
    }

    public func registerWorker() async throws -> Int64 {
        try await withConnection { connection in
            let rows = try await connection.query("SELECT worker_id FROM procrastinate_register_worker_v1()", logger: logger)
            return try await rows.decode(Int64.self).all()[0]
        }
    }

    public func unregisterWorker(id: Int64) async throws {
        try await execute("SELECT procrastinate_unregister_worker_v1(\(id))")
    }

    public func updateHeartbeat(workerID: Int64) async throws {
        try await execute("SELECT procrastinate_update_heartbeat_v1(\(workerID))")
    }

    public func pruneStalledWorkers(olderThan seconds: Double) async throws -> [Int64] {
        try await withConnection { connection in
            try await connection.query(
                "SELECT worker_id FROM procrastinate_prune_stalled_workers_v1(\(seconds))", logger: logger
            ).decode(Int64.self).all()
        }
    }

    public func jobIDsToAbort(queue: String?) async throws -> [Int64] {
        try await withConnection { connection in
            try await connection.query(
                """
                SELECT id FROM procrastinate_jobs
                WHERE status = 'doing' AND abort_requested AND (\(queue)::varchar IS NULL OR queue_name = \(queue))
                """,
                logger: logger
            ).decode(Int64.self).all()
        }
    }

    public func recoverStalledJob(id: Int64, staleAfter seconds: Double, decision: RetryDecision?) async throws -> Bool {
        // One statement: lock the row if it is still stalled (a row another recoverer holds is
        // skipped), then retry or fail it through the schema's own functions.
        try await withConnection { connection in
            let rows = try await connection.query(
                """
                WITH stalled AS (
                    SELECT job.id FROM procrastinate_jobs AS job
                    WHERE job.id = \(id) AND job.status = 'doing'
                      AND (job.worker_id IS NULL OR EXISTS (
                          SELECT FROM procrastinate_workers AS worker
                          WHERE worker.id = job.worker_id
                            AND worker.last_heartbeat < now() - make_interval(secs => \(seconds))))
                    FOR UPDATE OF job SKIP LOCKED
                )
                SELECT CASE WHEN \(decision != nil)
                    THEN procrastinate_retry_job_v2(stalled.id, \(decision?.retryAt), \(decision?.priority.map { Int32(clamping: $0) }),
                                                    \(decision?.queue), \(decision?.lock))::text
                    ELSE procrastinate_finish_job_v1(stalled.id, 'failed', false)::text
                END
                FROM stalled
                """,
                logger: logger
            )
            return try await rows.decode(String?.self).all().count == 1
        }
    }

    // MARK: Administration

    public func cancelJob(id: Int64, abort: Bool, deleteJob: Bool) async throws -> Int64? {
        try await withConnection { connection in
            let rows = try await connection.query(
                "SELECT procrastinate_cancel_job_v1(\(id), \(abort), \(deleteJob))", logger: logger
            )
            return try await rows.decode(Int64?.self).all().first ?? nil
        }
    }

    public func jobStatus(id: Int64) async throws -> JobStatus? {
        try await withConnection { connection in
            let rows = try await connection.query(
                "SELECT status::text FROM procrastinate_jobs WHERE id = \(id)", logger: logger
            )
            return try await rows.decode(String.self).all().first.flatMap(JobStatus.init(rawValue:))
        }
    }

    public func listJobs(_ filter: JobFilter) async throws -> [Job] {
        try await withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.jobColumns) FROM procrastinate_jobs
                WHERE (\(filter.id)::bigint IS NULL OR id = \(filter.id))
                  AND (\(filter.queue)::varchar IS NULL OR queue_name = \(filter.queue))
                  AND (\(filter.taskName)::varchar IS NULL OR task_name = \(filter.taskName))
                  AND (\(filter.status?.rawValue)::procrastinate_job_status IS NULL OR status = \(filter.status?.rawValue)::procrastinate_job_status)
                  AND (\(filter.lock)::varchar IS NULL OR lock = \(filter.lock))
                  AND (\(filter.queueingLock)::varchar IS NULL OR queueing_lock = \(filter.queueingLock))
                  AND (\(filter.workerID)::bigint IS NULL OR worker_id = \(filter.workerID))
                ORDER BY id
                """,
                logger: logger
            )
            return try await Self.jobs(rows)
        }
    }

    public func countJobs(by grouping: JobGrouping, _ filter: JobFilter) async throws -> [JobCounts] {
        let column = switch grouping {
        case .queue: "queue_name"
        case .task: "task_name"
        case .lock: "lock"
        }
        return try await withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: column), status::text, count(*)::bigint FROM procrastinate_jobs
                WHERE (\(filter.queue)::varchar IS NULL OR queue_name = \(filter.queue))
                  AND (\(filter.taskName)::varchar IS NULL OR task_name = \(filter.taskName))
                  AND (\(filter.status?.rawValue)::procrastinate_job_status IS NULL OR status = \(filter.status?.rawValue)::procrastinate_job_status)
                  AND (\(filter.lock)::varchar IS NULL OR lock = \(filter.lock))
                  AND \(unescaped: column) IS NOT NULL
                GROUP BY 1, 2 ORDER BY 1
                """,
                logger: logger
            )
            var counts: [JobCounts] = []
            for try await (name, status, count) in rows.decode((String, String, Int64).self) {
                if counts.last?.name != name {
                    counts.append(JobCounts(name: name, byStatus: [:]))
                }
                if let status = JobStatus(rawValue: status) {
                    counts[counts.count - 1].byStatus[status] = Int(count)
                }
            }
            return counts
        }
    }

    public func deleteOldJobs(olderThan hours: Double, statuses: [JobStatus], queue: String?) async throws -> Int {
        try await withConnection { connection in
            let rows = try await connection.query(
                """
                DELETE FROM procrastinate_jobs AS job
                WHERE job.status = ANY(\(statuses.map(\.rawValue))::procrastinate_job_status[])
                  AND (\(queue)::varchar IS NULL OR job.queue_name = \(queue))
                  AND (SELECT max(event.at) FROM procrastinate_events AS event WHERE event.job_id = job.id)
                      < now() - make_interval(secs => \(hours * 3600))
                RETURNING job.id
                """,
                logger: logger
            )
            return try await rows.decode(Int64.self).all().count
        }
    }

    public func stalledJobs(secondsSinceHeartbeat: Double, queue: String?, taskName: String?) async throws -> [Job] {
        try await withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.jobColumns) FROM procrastinate_jobs AS job
                WHERE job.status = 'doing'
                  AND (\(queue)::varchar IS NULL OR job.queue_name = \(queue))
                  AND (\(taskName)::varchar IS NULL OR job.task_name = \(taskName))
                  AND (job.worker_id IS NULL OR EXISTS (
                      SELECT FROM procrastinate_workers AS worker
                      WHERE worker.id = job.worker_id
                        AND worker.last_heartbeat < now() - make_interval(secs => \(secondsSinceHeartbeat))))
                ORDER BY job.id
                """,
                logger: logger
            )
            return try await Self.jobs(rows)
        }
    }

    public func listWorkers() async throws -> [WorkerInfo] {
        try await withConnection { connection in
            try await connection.query(
                "SELECT id, last_heartbeat FROM procrastinate_workers ORDER BY id", logger: logger
            ).decode((Int64, Date).self).all().map { WorkerInfo(id: $0.0, lastHeartbeat: $0.1) }
        }
    }

    public func isSchemaApplied() async throws -> Bool {
        try await SchemaManager(connector: self).isApplied()
    }

    // MARK: Helpers

    /// The columns of a ``Job``, in the order ``jobs(_:)`` decodes them.
    static let jobColumns = """
        id, queue_name, task_name, priority, lock, queueing_lock, args::text, status::text, scheduled_at, attempts, \
        abort_requested, worker_id
        """

    static func jobs(_ rows: PostgresRowSequence) async throws -> [Job] {
        var jobs: [Job] = []
        for try await row in rows {
            jobs.append(try job(from: row))
        }
        return jobs
    }

    /// A row of ``jobColumns``.
    static func job(from row: PostgresRow) throws -> Job {
        let (id, queue, task, priority, lock, queueingLock, arguments, status, scheduledAt, attempts, abortRequested, workerID) =
            try row.decode((Int64, String, String, Int, String?, String?, String, String, Date?, Int, Bool, Int64?).self)
        return Job(
            id: id, queue: queue, taskName: task, priority: priority, lock: lock, queueingLock: queueingLock,
            arguments: arguments, status: JobStatus(rawValue: status) ?? .todo, scheduledAt: scheduledAt, attempts: attempts,
            abortRequested: abortRequested, workerID: workerID
        )
    }

    private func execute(_ query: PostgresQuery, jobID: Int64? = nil) async throws {
        do {
            _ = try await client.withConnection { connection in
                try await connection.query(query, logger: logger).collect()
            }
        } catch let error as PSQLError where jobID != nil && error.serverInfo?[.sqlState] == "P0001" {
            throw InvalidJobState(jobID: jobID!, reason: error.serverInfo?[.message] ?? "invalid state")
        } catch {
            throw describe(error)
        }
    }
}

/// `procrastinate_defer_jobs_v1` for one job, prepared once per connection.
struct DeferJobStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT (procrastinate_defer_jobs_v1(ARRAY[ROW($1, $2, $3, $4, $5, $6::jsonb, $7)::procrastinate_job_to_defer_v1]))[1]
        """
    static let bindingDataTypes: [PostgresDataType] = [.varchar, .varchar, .int4, .text, .text, .text, .timestamptz]
    typealias Row = Int64

    var job: NewJob

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 7)
        bindings.append(job.queue)
        bindings.append(job.taskName)
        bindings.append(Int32(clamping: job.priority))
        bindings.append(job.lock)
        bindings.append(job.queueingLock)
        bindings.append(job.arguments)
        bindings.append(job.scheduledAt)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Int64.self)
    }

    /// Several jobs in one statement: their fields as a JSON array, turned into the
    /// composite array in SQL, in the given order.
    static func batchQuery(_ jobs: [NewJob]) throws -> PostgresQuery {
        struct Element: Encodable {
            var queue_name: String, task_name: String, priority: Int, lock: String?, queueing_lock: String?
            var args: String, scheduled_at: Date?
        }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.timeIntervalSince1970)
        }
        let elements = jobs.map {
            Element(
                queue_name: $0.queue, task_name: $0.taskName, priority: $0.priority, lock: $0.lock,
                queueing_lock: $0.queueingLock, args: $0.arguments, scheduled_at: $0.scheduledAt
            )
        }
        let json = String(decoding: try encoder.encode(elements), as: UTF8.self)
        return """
            SELECT unnest(procrastinate_defer_jobs_v1(ARRAY(
                SELECT ROW(job->>'queue_name', job->>'task_name', (job->>'priority')::integer, job->>'lock',
                           job->>'queueing_lock', (job->>'args')::jsonb, to_timestamp((job->>'scheduled_at')::float8)
                       )::procrastinate_job_to_defer_v1
                FROM jsonb_array_elements(\(json)::jsonb) WITH ORDINALITY AS given(job, position)
                ORDER BY position
            )))
            """
    }
}

/// `procrastinate_swift_fetch_jobs_v1`, prepared once per connection.
struct FetchJobsStatement: PostgresPreparedStatement {
    static let sql = "SELECT \(PostgresConnector.jobColumns) FROM procrastinate_swift_fetch_jobs_v1($1::varchar[], $2, $3)"
    static let bindingDataTypes: [PostgresDataType] = [.textArray, .int8, .int4]
    typealias Row = Job

    var queues: [String]?
    var workerID: Int64?
    var limit: Int

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(queues)
        bindings.append(workerID)
        bindings.append(Int32(clamping: limit))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try PostgresConnector.job(from: row) }
}

/// `procrastinate_swift_finish_jobs_v1`, prepared once per connection.
struct FinishJobsStatement: PostgresPreparedStatement {
    static let sql = "SELECT procrastinate_swift_finish_jobs_v1($1, $2::text[]::procrastinate_job_status[], $3)"
    static let bindingDataTypes: [PostgresDataType] = [.int8Array, .textArray, .boolArray]
    typealias Row = Int64

    var outcomes: [JobOutcome]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(outcomes.map(\.jobID))
        bindings.append(outcomes.map(\.status.rawValue))
        bindings.append(outcomes.map(\.deleteJob))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int64.self) }
}

/// `procrastinate_swift_finish_jobs_and_fetch_v1`, prepared once per connection.
struct FinishJobsAndFetchStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT \(PostgresConnector.jobColumns)
        FROM procrastinate_swift_finish_jobs_and_fetch_v1($1, $2::text[]::procrastinate_job_status[], $3, $4::varchar[], $5, $6)
        """
    static let bindingDataTypes: [PostgresDataType] = [.int8Array, .textArray, .boolArray, .textArray, .int8, .int4]

    /// A claimed job, or an outcome left alone (a row with only an id).
    enum Row {
        case fetched(Job)
        case leftAlone(Int64)
    }

    var outcomes: [JobOutcome]
    var queues: [String]?
    var workerID: Int64?
    var limit: Int

    func makeBindings() throws -> PostgresBindings {
        var bindings = try FinishJobsStatement(outcomes: outcomes).makeBindings()
        bindings.append(queues)
        bindings.append(workerID)
        bindings.append(Int32(clamping: limit))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let cells = PostgresRandomAccessRow(row)
        guard try cells["status"].decode(String?.self) != nil else {
            return .leftAlone(try cells["id"].decode(Int64.self))
        }
        return .fetched(try PostgresConnector.job(from: row))
    }
}
