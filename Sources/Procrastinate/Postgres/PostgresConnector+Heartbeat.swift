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
        return try await heartbeats.run(operation, settings: settings, connector: self)
    }
}

/// The connection a connector owning its pool sends heartbeats on: a worker's lease must not
/// wait behind its own jobs' queries for a pooled connection, nor on a pool still backing off
/// after an outage. Made on first use and again after any failure; closed with the pool.
final class HeartbeatConnection: Sendable {
    private let connection = Mutex<PostgresConnection?>(nil)

    /// Runs `operation` on the connection, in a transaction, bounded by the connector's
    /// `queryTimeout`; a connection that failed or did not answer is closed and forgotten.
    func run<Result: Sendable>(
        _ operation: @escaping @Sendable (PostgresConnection) async throws -> Result, settings: ConnectionSettings,
        connector: PostgresConnector
    ) async throws -> Result {
        try connector.checkOpen()
        let (logger, timeout, endpoint) = (connector.logger, connector.queryTimeout, connector.endpoint)
        do {
            return try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    let connection = try await self.current(settings: settings, logger: logger, timeout: timeout)
                    return try await connection.withTransaction(logger: logger) { connection in try await operation(connection) }
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let result = try await group.next() ?? nil else {
                    // Closing fails whatever waits on the connection, so that the group can end.
                    close()
                    throw DatabaseError.noAnswer(endpoint: endpoint, within: timeout)
                }
                return result
            }
        } catch {
            close()
            throw connector.describe(error)
        }
    }

    /// Closes the connection, if any.
    func close() {
        if let open = connection.withLock({ state in defer { state = nil }; return state }) {
            // Held until closed: a connection must not go before its close completes.
            let closed: EventLoopFuture<Void> = open.close()
            closed.whenComplete { _ in _ = open }
        }
    }

    private func current(settings: ConnectionSettings, logger: Logger, timeout: Duration) async throws -> PostgresConnection {
        if let open = connection.withLock({ $0 }), !open.isClosed { return open }
        var configuration = try settings.connectionConfiguration()
        configuration.options.connectTimeout = .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000)
        let made = try await PostgresConnection.connect(configuration: configuration, id: Int.random(in: 1_000...Int.max), logger: logger)
        connection.withLock { $0 = made }
        return made
    }
}
