import Foundation
import Logging
import PostgresNIO
import Procrastinate

/// The reads behind one page: a read-only transaction whose statements each stop after
/// ``DashboardOptions/statementTimeout``, so that no page can hold the database or hang.
struct ReadSession: Sendable {
    /// How long a page waits for a server that stopped answering.
    static let silentServerTimeout = Duration.seconds(60)

    let connection: PostgresConnection
    let logger: Logger
    /// What the database holds beyond the 3.10 schema (our migrations, or nothing).
    let features: SchemaFeatures

    /// Runs `body` in a read-only transaction of `connector`. A database that accepts no
    /// connection fails the page within ``PostgresConnector/queryTimeout``, as the connector's
    /// own operations do; once connected, each statement stops after `statementTimeout`
    /// (PostgreSQL's own bound), and a server that stops answering fails the page after
    /// ``silentServerTimeout``.
    static func run<Result: Sendable>(
        _ connector: PostgresConnector, features: SchemaFeatures, statementTimeout: Duration,
        _ body: @escaping @Sendable (ReadSession) async throws -> Result
    ) async throws -> Result {
        let milliseconds = Int((statementTimeout.seconds * 1000).rounded())
        return try await connector.perform(answeringWithin: silentServerTimeout) { connection in
            let session = ReadSession(connection: connection, logger: connector.logger, features: features)
            _ = try await session.rows(
                """
                SELECT set_config('statement_timeout', \(String(milliseconds)), true),
                       set_config('transaction_read_only', 'on', true)
                """,
                as: (String, String).self
            )
            return try await body(session)
        }
    }

    /// The rows of `query`, decoded as `types`.
    func rows<each T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as types: (repeat each T).Type) async throws -> [(repeat each T)] {
        var values: [(repeat each T)] = []
        for try await row in try await connection.query(query, logger: logger).decode(types) {
            values.append(row)
        }
        return values
    }

    /// The jobs `query` returns, which selects ``PostgresConnector/jobColumns`` (then nothing else).
    func jobs(_ query: PostgresQuery) async throws -> [Job] {
        var jobs: [Job] = []
        for try await row in try await connection.query(query, logger: logger) {
            jobs.append(try PostgresConnector.job(from: row))
        }
        return jobs
    }
}

/// The objects of our migrations that make some pages cheaper; a database that Python
/// Procrastinate set up alone has none of them, and every page still works there.
struct SchemaFeatures: Sendable, Hashable {
    /// `procrastinate_swift_lock_heads`: one row per lock with waiting jobs.
    var lockHeads = false
    /// `procrastinate_swift_workers`: our workers' names, queues and concurrency.
    var workerRegistrations = false
    /// `procrastinate_swift_stalled_jobs_v1`: the stalled-job rule of our workers' recovery.
    var stalledJobsFunction = false
    /// `procrastinate_swift_limits`: concurrency and rate limits, and paused queues.
    var limits = false
    /// `procrastinate_swift_job_errors`: the error of each failed attempt.
    var jobErrors = false

    /// What `connector`'s database holds.
    static func read(from connector: PostgresConnector) async throws -> SchemaFeatures {
        try await connector.perform(writes: false) { connection in
            let rows = try await connection.query(
                """
                SELECT to_regclass('procrastinate_swift_lock_heads') IS NOT NULL,
                       to_regclass('procrastinate_swift_workers') IS NOT NULL,
                       to_regproc('procrastinate_swift_stalled_jobs_v1') IS NOT NULL,
                       to_regclass('procrastinate_swift_limits') IS NOT NULL,
                       to_regclass('procrastinate_swift_job_errors') IS NOT NULL
                """,
                logger: connector.logger
            ).collect()
            let (lockHeads, workers, stalled, limits, errors) = try rows[0].decode((Bool, Bool, Bool, Bool, Bool).self)
            return SchemaFeatures(
                lockHeads: lockHeads, workerRegistrations: workers, stalledJobsFunction: stalled, limits: limits, jobErrors: errors
            )
        }
    }
}
