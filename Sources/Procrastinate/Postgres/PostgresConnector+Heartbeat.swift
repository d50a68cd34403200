import NIOCore
import PostgresNIO
import Synchronization

extension PostgresConnector {
    public func heartbeat(
        workerID: Int64, holding held: [HeldJob], registration: WorkerRegistration, strayGrace: Duration
    ) async throws -> HeartbeatReply {
        let query: PostgresQuery = """
            SELECT registered_again, lost_job_ids, released_job_ids FROM procrastinate_swift_heartbeat_v1(
                \(workerID), \(held.map(\.id))::bigint[], \(held.map { Int32(clamping: $0.attempts) })::integer[],
                \(registration.name), \(registration.queues)::varchar[], \(registration.taskNames)::varchar[], \(strayGrace.seconds))
            """
        let logger = logger
        let operation: @Sendable (PostgresConnection) async throws -> HeartbeatReply = { connection in
            let rows = try await connection.query(query, logger: logger).decode((Bool, [Int64], [Int64]).self).all()
            return HeartbeatReply(registeredAgain: rows[0].0, lostJobIDs: rows[0].1, releasedJobIDs: rows[0].2)
        }
        guard let settings else { return try await perform(operation) }
        return try await heartbeats.run(operation, worker: workerID, settings: settings, connector: self)
    }
}

/// The connections a connector owning its pool sends heartbeats on, one per worker (whose
/// heartbeats follow each other): a worker's lease must not wait behind its own jobs' queries
/// for a pooled connection, nor on a pool still backing off after an outage. Made on first use
/// and again after any failure; closed when the worker unregisters, and with the pool.
final class HeartbeatConnections: Sendable {
    private let connections = Mutex<[Int64: PostgresConnection]>([:])

    /// Runs `operation` on `worker`'s connection, in a transaction, bounded by the connector's
    /// `queryTimeout`; a connection that failed or did not answer is closed and forgotten.
    func run<Result: Sendable>(
        _ operation: @escaping @Sendable (PostgresConnection) async throws -> Result, worker: Int64,
        settings: ConnectionSettings, connector: PostgresConnector
    ) async throws -> Result {
        try connector.checkOpen()
        let (logger, timeout) = (connector.logger, connector.queryTimeout)
        do {
            return try await PostgresConnector.bounded(within: timeout, endpoint: connector.endpoint, onTimeout: { self.close(worker: worker) }) {
                let connection = try await self.connection(of: worker, settings: settings, logger: logger, timeout: timeout)
                return try await connection.withTransaction(logger: logger) { connection in try await operation(connection) }
            }
        } catch {
            close(worker: worker)
            throw connector.describe(error)
        }
    }

    /// Closes `worker`'s connection (every connection when nil).
    func close(worker: Int64? = nil) {
        let closing = connections.withLock { connections in
            guard let worker else {
                defer { connections = [:] }
                return Array(connections.values)
            }
            return connections.removeValue(forKey: worker).map { [$0] } ?? []
        }
        closing.forEach(Self.close)
    }

    /// Closes `connection`, held until its close completed (it must not go before).
    private static func close(_ connection: PostgresConnection) {
        let closed: EventLoopFuture<Void> = connection.close()
        closed.whenComplete { _ in _ = connection }
    }

    private func connection(
        of worker: Int64, settings: ConnectionSettings, logger: Logger, timeout: Duration
    ) async throws -> PostgresConnection {
        if let open = connections.withLock({ $0[worker] }), !open.isClosed { return open }
        close(worker: worker)
        var configuration = try settings.connectionConfiguration()
        configuration.options.connectTimeout = .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000)
        let made = try await PostgresConnection.connect(configuration: configuration, id: Int.random(in: 1_000...Int.max), logger: logger)
        let replaced = connections.withLock { connections in
            defer { connections[worker] = made }
            return connections[worker]
        }
        if let replaced { Self.close(replaced) }
        return made
    }
}
