import Foundation
public import Logging
public import PostgresNIO
import Synchronization

/// Connects Procrastinate to PostgreSQL through a PostgresNIO connection pool.
///
/// Either give it ``ConnectionSettings`` (it then owns its pool, which ``run(isolation:_:)`` starts and
/// stops), or an existing `PostgresClient` so that an application and its jobs share one pool
/// (the application runs that client, for example in its `ServiceGroup`).
public final class PostgresConnector: Sendable {
    /// The pool queries go through.
    public let client: PostgresClient
    /// The settings the pool was made from, when the connector made it.
    public let settings: ConnectionSettings?
    /// How errors and logs name the database.
    public let endpoint: String
    /// Where the connector logs, and where an app made on it may log too.
    public let logger: Logger
    /// How long one operation may wait for a connection and its answer: past it, the
    /// connection is closed (the pool makes another) and the operation fails.
    public let queryTimeout: Duration
    /// How many ``run(isolation:_:)`` calls run the pool now (a connector owning its pool).
    private let openCount = Atomic<Int>(0)
    /// Where workers' heartbeats, claims and outcome writes go, apart from the pool.
    let workerConnections = WorkerConnections()

    /// A connector owning a new pool for `settings`.
    public init(settings: ConnectionSettings, queryTimeout: Duration = .seconds(10), logger: Logger = Logger(label: "procrastinate")) {
        self.client = PostgresClient(configuration: settings.clientConfiguration, backgroundLogger: logger)
        self.settings = settings
        self.endpoint = settings.endpoint
        self.queryTimeout = queryTimeout
        self.logger = logger
    }

    /// A connector using `client`, which its owner runs.
    public init(
        client: PostgresClient, endpoint: String = "PostgreSQL", queryTimeout: Duration = .seconds(10),
        logger: Logger = Logger(label: "procrastinate")
    ) {
        self.client = client
        self.settings = nil
        self.endpoint = endpoint
        self.queryTimeout = queryTimeout
        self.logger = logger
    }

    /// Runs `body` with the connector open.
    ///
    /// A connector that owns its pool runs the pool during `body` and closes it afterwards;
    /// before `body` it checks that the database accepts a connection, failing at once with a
    /// ``DatabaseError`` naming `host:port/database` otherwise (rather than waiting for the
    /// pool's retries).
    public func run<Result: Sendable>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnector) async throws -> Result
    ) async throws -> Result {
        guard let settings else {
            return try await body(self)
        }
        return try await withThrowingTaskGroup(of: Void.self, isolation: isolation) { group in
            group.addTask { await self.client.run() }
            defer { group.cancelAll() }
            try await checkReachable(settings)
            openCount.add(1, ordering: .relaxed)
            defer {
                if openCount.subtract(1, ordering: .relaxed).newValue == 0 { workerConnections.close() }
            }
            return try await body(self)
        }
    }

    /// Runs `body` with the connector open: see ``run(isolation:_:)``.
    public func open<Result: Sendable>(
        isolation: isolated (any Actor)? = #isolation,
        during body: () async throws -> Result
    ) async throws -> Result {
        try await run(isolation: isolation) { _ in try await body() }
    }

    /// Throws ``AppNotOpen`` when the connector owns its pool and does not run it now: a query
    /// would wait for a connection forever.
    func checkOpen() throws {
        if settings != nil, openCount.load(ordering: .relaxed) == 0 {
            throw AppNotOpen(endpoint: endpoint)
        }
    }

    /// Runs `body` on one connection of the pool, describing database errors in words.
    public func withConnection<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try checkOpen()
        do {
            return try await client.withConnection(body)
        } catch {
            throw describe(error)
        }
    }

    /// Runs `body` in a transaction on one connection of the pool: committed when `body`
    /// returns, rolled back when it throws.
    public func withTransaction<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        try checkOpen()
        do {
            return try await client.withTransaction(logger: logger, isolation: isolation, body)
        } catch let error as PostgresTransactionError {
            throw describe(error.closureError ?? error.beginError ?? error.commitError ?? error)
        } catch {
            throw describe(error)
        }
    }

    /// `error` in words: see ``describing(_:endpoint:)``.
    func describe(_ error: any Error) -> any Error {
        Self.describing(error, endpoint: endpoint)
    }

    /// `error` in words: PostgreSQL errors as ``DatabaseError``, a missing schema as
    /// ``SchemaError/missing(endpoint:)`` (our own functions missing:
    /// ``SchemaError/migrationsMissing(endpoint:)``), a queueing-lock violation as
    /// ``AlreadyEnqueued``.
    static func describing(_ error: any Error, endpoint: String) -> any Error {
        if let transaction = error as? PostgresTransactionError {
            return describing(transaction.closureError ?? transaction.beginError ?? transaction.commitError ?? error, endpoint: endpoint)
        }
        guard let database = DatabaseError.wrapping(error, endpoint: endpoint) as? DatabaseError else { return error }
        // Undefined table, function or type of ours: the schema (or our migrations) never applied.
        if ["42P01", "42883", "42704"].contains(database.sqlState), database.message.contains("procrastinate_") {
            return database.message.contains("procrastinate_swift_")
                ? SchemaError.migrationsMissing(endpoint: endpoint) : SchemaError.missing(endpoint: endpoint)
        }
        if database.constraintName == "procrastinate_jobs_queueing_lock_idx_v1" {
            // The detail reads `Key (queueing_lock)=(value) already exists.`
            let detail = database.detail ?? ""
            let suffix = ") already exists."
            var key = detail.range(of: "=(").map { String(detail[$0.upperBound...]) } ?? ""
            if key.hasSuffix(suffix) { key.removeLast(suffix.count) }
            return AlreadyEnqueued(queueingLock: key)
        }
        return database
    }

    private func checkReachable(_ settings: ConnectionSettings) async throws {
        do {
            let connection = try await PostgresConnection.connect(
                configuration: settings.connectionConfiguration(), id: 0, logger: logger
            )
            try await connection.close()
        } catch {
            throw DatabaseError.wrapping(error, endpoint: endpoint)
        }
    }
}
