public import Foundation
public import PostgresNIO

extension PostgresConnector: Connector {
    // MARK: Deferring

    /// Inserts jobs and returns once they are durable, in one round trip
    /// (`procrastinate_swift_defer_jobs_v1`); on a database without our migrations (set up by
    /// Python Procrastinate), in a transaction of its own through the 3.10 function.
    public func deferJobs(_ jobs: [NewJob]) async throws -> [Int64] {
        for job in jobs {
            try InvalidQueueName.check(job.queue)
        }
        let (logger, endpoint) = (logger, endpoint)
        if jobs.haveLimitKeys {
            return try await perform(writes: false) { connection in
                try await connection.execute(DeferLimitedAndCommitStatement(jobs: jobs), logger: logger).all().first ?? []
            }
        }
        do {
            return try await perform(writes: false) { connection in
                try await connection.execute(DeferAndCommitStatement(jobs: jobs), logger: logger).all().first ?? []
            }
        } catch SchemaError.migrationsMissing {
            logger.debug("Deferring without procrastinate_swift_defer_jobs_v1: run `procrastinate schema --migrate` to defer in one round trip")
            return try await perform { connection in
                try await Self.deferJobs(jobs, on: connection, logger: logger, endpoint: endpoint)
            }
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
            if jobs.haveLimitKeys {
                var bindings = PostgresBindings(capacity: 12)
                try jobs.appendColumns(to: &bindings)
                try jobs.appendLimitKeyColumns(to: &bindings)
                let insert = PostgresQuery(
                    unsafeSQL: """
                        SELECT procrastinate_swift_insert_limited_jobs_v1($1::varchar[], $2::varchar[], $3::integer[], $4, $5, $6, $7,
                            $8, $9::integer[], $10::integer[], $11::float8[], $12::integer[])
                        """,
                    binds: bindings
                )
                return try await connection.query(insert, logger: logger).decode([Int64].self).all().first ?? []
            }
            if jobs.count == 1 {
                // One job, the common case: a prepared statement with plain parameters.
                return try await connection.execute(DeferJobStatement(job: jobs[0]), logger: logger).all()
            }
            return try await connection.query(DeferJobStatement.batchQuery(jobs), logger: logger)
                .decode(Int64.self).all()
        } catch {
            throw Self.describing(error, endpoint: endpoint)
        }
    }

    public func deferPeriodicJob(_ job: NewJob, periodicID: String, timestamp: Int64) async throws -> Int64? {
        try InvalidQueueName.check(job.queue)
        // The rule of `PeriodicTickRecord`, in procrastinate_swift_defer_periodic_job_v1.
        return try await query(
            """
            SELECT procrastinate_swift_defer_periodic_job_v1(\(job.queue), \(job.taskName), \(Int32(clamping: job.priority)),
                \(job.lock), \(job.queueingLock), \(job.arguments)::jsonb, \(periodicID), \(timestamp), \(PeriodicTickRecord.retention))
            """,
            as: Int64?.self
        ).first ?? nil
    }

    // MARK: Working

    public func fetchJob(queues: [String]?, workerID: Int64?) async throws -> Job? {
        try await query(
            "SELECT \(unescaped: Self.jobColumns) FROM procrastinate_fetch_job_v2(\(queues)::varchar[], \(workerID)) WHERE id IS NOT NULL"
        ).first
    }

    public func fetchJobs(queues: [String]?, workerID: Int64?, limit: Int, taskNames: [String]?) async throws -> [Job] {
        try await finishAndClaim(
            FinishAndClaimStatement(outcomes: [], queues: queues, workerID: workerID, limit: limit, taskNames: taskNames)
        ).fetched
    }

    /// `procrastinate_swift_next_scheduled_job_v2`; on a database without our latest migration,
    /// `_v1`, given the time since `after`.
    public func nextScheduledJob(queues: [String]?, taskNames: [String]?, scheduledAfter after: Date) async throws -> Duration? {
        let logger = logger
        let ask = { @Sendable (query: PostgresQuery) in
            try await self.perform(writes: false) { connection in
                try await connection.query(query, logger: logger).decode(Double?.self).all().first ?? nil
            }
        }
        let seconds: Double?
        do {
            seconds = try await ask("SELECT procrastinate_swift_next_scheduled_job_v2(\(queues)::varchar[], \(taskNames)::varchar[], \(after))")
        } catch SchemaError.migrationsMissing {
            seconds = try await ask(
                "SELECT procrastinate_swift_next_scheduled_job_v1(\(queues)::varchar[], \(taskNames)::varchar[], \(Date().timeIntervalSince(after)))"
            )
        }
        return seconds.map { .microseconds(Int64(($0 * 1_000_000).rounded(.up))) }
    }

    public func finishJobs(_ outcomes: [JobOutcome]) async throws -> [Int64] {
        try checkQueues(of: outcomes)
        return try await finishAndClaim(
            FinishAndClaimStatement(outcomes: outcomes, queues: nil, workerID: nil, limit: 0, taskNames: nil)
        ).leftAlone
    }

    public func finishJobs(
        _ outcomes: [JobOutcome], thenFetch queues: [String]?, workerID: Int64?, limit: Int, taskNames: [String]?
    ) async throws -> (leftAlone: [Int64], fetched: [Job]) {
        try checkQueues(of: outcomes)
        return try await finishAndClaim(
            FinishAndClaimStatement(outcomes: outcomes, queues: queues, workerID: workerID, limit: limit, taskNames: taskNames)
        )
    }

    /// Records outcomes and claims jobs in one round trip, durable when it returns: the
    /// procedure commits before it answers, so the operation runs outside a transaction block.
    /// A worker's go through its own connection (see ``WorkerConnections``).
    private func finishAndClaim(_ statement: FinishAndClaimStatement) async throws -> (leftAlone: [Int64], fetched: [Job]) {
        let (logger, endpoint) = (logger, endpoint)
        let errors = statement.outcomes.filter { $0.error != nil && $0.attempts != nil }
        let operation: @Sendable (PostgresConnection) async throws -> FinishAndClaimStatement.Row = { connection in
            if !errors.isEmpty {
                // Before the outcomes, while the jobs still run in the attempts the errors name.
                _ = try await connection.query(
                    """
                    SELECT procrastinate_swift_record_job_errors_v1(
                        \(errors.map(\.jobID)), \(errors.map { Int32(clamping: $0.attempts!) }), \(errors.map { $0.error!.type }),
                        \(errors.map { $0.error!.message }))
                    """,
                    logger: logger
                ).collect()
            }
            guard let result = try await connection.execute(statement, logger: logger).all().first else {
                throw DatabaseError(
                    endpoint: endpoint, sqlState: nil, message: "procrastinate_swift_finish_and_claim_v1 answered no row", detail: nil,
                    constraintName: nil, isConnectionFailure: false
                )
            }
            return result
        }
        guard let settings, let workerID = statement.workerID else { return try await perform(writes: false, operation) }
        do {
            return try await workerConnections.run(operation, on: .jobs, of: workerID, settings: settings, connector: self)
        } catch let error as DatabaseError where error.sqlState == "23503" {
            // procrastinate_jobs_worker_id_fkey: the worker's row was pruned.
            throw WorkerRegistrationGone(workerID: workerID)
        }
    }

    /// A retry's new queue must be one PostgreSQL can notify on.
    private func checkQueues(of outcomes: [JobOutcome]) throws {
        for case let queue? in outcomes.map(\.retry?.queue) {
            try InvalidQueueName.check(queue)
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

    public func registerWorker(_ registration: WorkerRegistration) async throws -> Int64 {
        try await query(
            """
            SELECT procrastinate_swift_register_worker_v1(\(registration.name), \(registration.queues)::varchar[],
                \(registration.taskNames)::varchar[])
            """,
            as: Int64.self
        )[0]
    }

    public func unregisterWorker(id: Int64) async throws {
        workerConnections.close(worker: id)
        try await execute("SELECT procrastinate_unregister_worker_v1(\(id))")
    }

    public func updateHeartbeat(workerID: Int64) async throws {
        try await execute("SELECT procrastinate_update_heartbeat_v1(\(workerID))")
    }

    public func pruneStalledWorkers(olderThan seconds: Double) async throws -> [Int64] {
        try await query("SELECT worker_id FROM procrastinate_prune_stalled_workers_v1(\(seconds))", as: Int64.self)
    }

    public func jobIDsToAbort(queue: String?) async throws -> [Int64] {
        try await query("SELECT procrastinate_swift_jobs_to_abort_v1(\(queue))", as: Int64.self)
    }

    public func recoverStalledJob(
        _ job: Job, staleAfter seconds: Double, excludingWorker excludedWorkerID: Int64?, decision: RetryDecision?
    ) async throws -> Bool {
        if let queue = decision?.queue { try InvalidQueueName.check(queue) }
        return try await query(
            """
            SELECT procrastinate_swift_recover_stalled_job_v1(\(job.id), \(Int32(clamping: job.attempts)), \(seconds), \(excludedWorkerID),
                \(decision?.retryAt), \(decision?.priority.map { Int32(clamping: $0) }), \(decision?.queue), \(decision?.lock))
            """,
            as: Bool.self
        )[0]
    }

    // MARK: Administration

    public func cancelJob(id: Int64, abort: Bool, deleteJob: Bool) async throws -> Int64? {
        try await query("SELECT procrastinate_cancel_job_v1(\(id), \(abort), \(deleteJob))", as: Int64?.self).first ?? nil
    }

    public func deleteJob(id: Int64) async throws -> Bool {
        try await !query("DELETE FROM procrastinate_jobs WHERE id = \(id) AND status <> 'doing' RETURNING id", as: Int64.self).isEmpty
    }

    public func jobStatus(id: Int64) async throws -> JobStatus? {
        try await query("SELECT status::text FROM procrastinate_jobs WHERE id = \(id)", as: String.self)
            .first.map { try JobStatus(databaseValue: $0) }
    }

    public func listJobs(_ filter: JobFilter) async throws -> [Job] {
        try await query("SELECT \(unescaped: Self.jobColumns) FROM \(jobsPassing: filter) ORDER BY id")
    }

    public func jobErrors(ids: [Int64]) async throws -> [Int64: [JobError]] {
        guard !ids.isEmpty else { return [:] }
        // A database set up by Python alone has no such table, and no errors to show.
        let rows = try await withoutOurMigrations([]) {
            try await query(
                """
                SELECT job_id, attempt, at, error_type, message FROM procrastinate_swift_job_errors
                WHERE job_id = ANY(\(ids)) ORDER BY job_id, attempt
                """,
                as: (Int64, Int32, Date, String, String).self
            )
        }
        return Dictionary(grouping: rows, by: \.0).mapValues { rows in
            rows.map { JobError(attempt: Int($0.1), at: $0.2, cause: JobError.Cause(type: $0.3, message: $0.4)) }
        }
    }

    /// What `read` answers, or `fallback`'s answer on a database without our migrations (set
    /// up by Python alone), where the objects `read` uses do not exist: one round trip either
    /// way on a database that has them.
    func withoutOurMigrations<Result>(
        _ fallback: @autoclosure () async throws -> Result, _ read: () async throws -> Result
    ) async throws -> Result {
        do {
            return try await read()
        } catch SchemaError.migrationsMissing {
            return try await fallback()
        }
    }

    public func countJobs(by grouping: JobGrouping, _ filter: JobFilter) async throws -> [JobCounts] {
        let column = switch grouping {
        case .queue: "queue_name"
        case .task: "task_name"
        case .lock: "lock"
        }
        let rows = try await query(
            """
            SELECT \(unescaped: column), status::text, count(*)::bigint FROM \(jobsPassing: filter)
            WHERE \(unescaped: column) IS NOT NULL
            GROUP BY 1, 2 ORDER BY 1
            """,
            as: (String, String, Int64).self
        )
        var counts: [JobCounts] = []
        for (name, status, count) in rows {
            if counts.last?.name != name {
                counts.append(JobCounts(name: name, byStatus: [:]))
            }
            counts[counts.count - 1].byStatus[try JobStatus(databaseValue: status)] = Int(count)
        }
        return counts
    }

    public func deleteOldJobs(olderThan seconds: Double, statuses: [JobStatus], queue: String?, after afterID: Int64, limit: Int) async throws -> PruneBatch {
        let rows = try await query(
            """
            SELECT deleted, last_examined_id FROM procrastinate_swift_prune_jobs_v1(
                \(statuses.map(\.rawValue))::procrastinate_job_status[], \(seconds), \(queue), \(afterID), \(limit)::integer)
            """,
            as: (Int, Int64?).self
        )
        return PruneBatch(deleted: rows.first?.0 ?? 0, lastExaminedID: rows.first?.1)
    }

    public func stalledJobs(secondsSinceHeartbeat: Double, queue: String?, taskName: String?) async throws -> [Job] {
        try await query(
            """
            SELECT \(unescaped: Self.jobColumns)
            FROM procrastinate_swift_stalled_jobs_v1(\(secondsSinceHeartbeat), \(queue), \(taskName), NULL)
            """
        )
    }

    public func listWorkers() async throws -> [WorkerInfo] {
        // A database set up by Python alone has no registrations of ours: its workers have none.
        try await withoutOurMigrations(try await workers(registrations: "LEFT JOIN (SELECT NULL::bigint AS worker_id, NULL::varchar AS name, NULL::varchar[] AS queues, NULL::varchar[] AS task_names) AS ours ON false")) {
            try await workers(registrations: "LEFT JOIN procrastinate_swift_workers AS ours ON ours.worker_id = worker.id")
        }
    }

    /// The workers, their registrations from `registrations` (a join giving `ours`).
    private func workers(registrations: String) async throws -> [WorkerInfo] {
        try await query(
            """
            SELECT worker.id, worker.last_heartbeat, ours.name::text, ours.queues::text[], ours.task_names::text[], ours.worker_id IS NOT NULL,
                (SELECT count(*) FROM procrastinate_jobs AS job WHERE job.worker_id = worker.id AND job.status = 'doing')
            FROM procrastinate_workers AS worker \(unescaped: registrations)
            ORDER BY worker.id
            """,
            as: (Int64, Date, String?, [String]?, [String]?, Bool, Int64).self
        ).map { id, lastHeartbeat, name, queues, taskNames, isOurs, running in
            WorkerInfo(
                id: id, lastHeartbeat: lastHeartbeat,
                registration: isOurs ? WorkerRegistration(name: name ?? "worker", queues: queues, taskNames: taskNames) : nil,
                running: Int(running)
            )
        }
    }

    public func isSchemaApplied() async throws -> Bool {
        try await SchemaManager(connector: self).isApplied()
    }

    // MARK: Helpers

    /// The columns of a ``Job``, in the order ``job(from:)`` decodes them.
    package static let jobColumns = """
        id, queue_name, task_name, priority, lock, queueing_lock, args::text, status::text, scheduled_at, attempts, \
        abort_requested, worker_id
        """

    /// A row of ``jobColumns``.
    package static func job(from row: PostgresRow) throws -> Job {
        let (id, queue, task, priority, lock, queueingLock, arguments, status, scheduledAt, attempts, abortRequested, workerID) =
            try row.decode((Int64, String, String, Int, String?, String?, String, String, Date?, Int, Bool, Int64?).self)
        return Job(
            id: id, queue: queue, taskName: task, priority: priority, lock: lock, queueingLock: queueingLock,
            arguments: arguments, status: try JobStatus(databaseValue: status), scheduledAt: scheduledAt, attempts: attempts,
            abortRequested: abortRequested, workerID: workerID
        )
    }

    /// The rows of `query`, decoded as `types`, bounded and acknowledged (see ``perform(_:)``).
    func query<each T: PostgresDecodable & Sendable>(
        _ query: PostgresQuery, as types: (repeat each T).Type
    ) async throws -> [(repeat each T)] {
        let logger = logger
        return try await perform { connection in
            var values: [(repeat each T)] = []
            for try await row in try await connection.query(query, logger: logger).decode(types) {
                values.append(row)
            }
            return values
        }
    }

    /// The jobs `query` selects (its columns: ``jobColumns``).
    private func query(_ query: PostgresQuery) async throws -> [Job] {
        let logger = logger
        return try await perform { connection in
            var jobs: [Job] = []
            for try await row in try await connection.query(query, logger: logger) {
                jobs.append(try Self.job(from: row))
            }
            return jobs
        }
    }

    /// Runs `query`; a rejection by a schema function (P0001) about job `jobID` becomes
    /// ``InvalidJobState``.
    private func execute(_ query: PostgresQuery, jobID: Int64? = nil) async throws {
        let logger = logger
        do {
            _ = try await perform { connection in
                try await connection.query(query, logger: logger).collect().count
            }
        } catch let error as DatabaseError where jobID != nil && error.sqlState == "P0001" {
            throw InvalidJobState(jobID: jobID!, reason: error.message)
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

extension PostgresQuery.StringInterpolation {
    /// The jobs passing `filter`, the one job filter of listings and counts, as a subquery
    /// naming only the criteria given (so the planner uses their indexes). Plain SQL on the 3.10
    /// table: read-only commands work on a database set up by Python alone.
    mutating func appendInterpolation(jobsPassing filter: JobFilter) {
        appendLiteral("(SELECT * FROM procrastinate_jobs WHERE true")
        func criterion(_ column: String, _ value: (some PostgresNonThrowingEncodable)?, cast: String = "") {
            guard let value else { return }
            appendLiteral(" AND \(column) = ")
            appendInterpolation(value)
            appendLiteral(cast)
        }
        criterion("id", filter.id)
        criterion("queue_name", filter.queue)
        criterion("task_name", filter.taskName)
        criterion("status", filter.status?.rawValue, cast: "::procrastinate_job_status")
        criterion("lock", filter.lock)
        criterion("queueing_lock", filter.queueingLock)
        criterion("worker_id", filter.workerID)
        appendLiteral(") AS job")
    }
}
