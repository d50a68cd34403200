import NIOCore
import PostgresNIO
import Synchronization

/// The connections a connector owning its pool keeps for each worker, apart from the pool:
///
/// - ``Lane/heartbeats``: a worker's lease must not wait behind its own jobs' queries for a
///   pooled connection, nor on a pool still backing off after an outage.
/// - ``Lane/jobs``: its claims and outcome writes, one or two at every job; leasing a pooled
///   connection for each cost more CPU than the round trip itself (about 130 µs against 86 µs
///   on a 2-core machine).
///
/// Made on first use and again after any failure; closed when the worker unregisters, and with
/// the pool.
final class WorkerConnections: Sendable {
    /// What a connection of a worker carries.
    enum Lane: Hashable, Sendable {
        case heartbeats
        case jobs
    }

    private struct Key: Hashable {
        var worker: Int64
        var lane: Lane
    }

    private let connections = Mutex<[Key: PostgresConnection]>([:])

    /// Runs `operation` on `worker`'s connection of `lane` (in a transaction for heartbeats;
    /// the jobs' procedure commits itself), bounded by the connector's `queryTimeout`; a
    /// connection that failed or did not answer is closed and forgotten.
    func run<Result: Sendable>(
        _ operation: @escaping @Sendable (PostgresConnection) async throws -> Result, on lane: Lane, of worker: Int64,
        settings: ConnectionSettings, connector: PostgresConnector
    ) async throws -> Result {
        try connector.checkOpen()
        let (logger, timeout, key) = (connector.logger, connector.queryTimeout, Key(worker: worker, lane: lane))
        // The connection this operation uses: the one a failure or a timeout closes. A claim and
        // a write share a lane's connection, and one's failure must not close another
        // connection the other already moved to.
        let used = LeasedConnection()
        do {
            return try await PostgresConnector.bounded(
                within: timeout, endpoint: connector.endpoint, onTimeout: { used.current.map { self.close($0, of: key) } }
            ) {
                let connection = try await self.connection(for: key, settings: settings, logger: logger, timeout: timeout)
                used.set(connection)
                guard lane == .heartbeats else { return try await operation(connection) }
                return try await connection.withTransaction(logger: logger) { connection in try await operation(connection) }
            }
        } catch {
            used.current.map { close($0, of: key) }
            throw connector.describe(error)
        }
    }

    /// Closes `worker`'s connections (every connection when nil).
    func close(worker: Int64? = nil) {
        let closing = connections.withLock { connections in
            let closing = connections.filter { worker == nil || $0.key.worker == worker }
            for key in closing.keys { connections.removeValue(forKey: key) }
            return Array(closing.values)
        }
        closing.forEach(Self.close)
    }

    /// Closes `connection`, and forgets it if it is still `key`'s.
    private func close(_ connection: PostgresConnection, of key: Key) {
        connections.withLock { connections in
            if connections[key] === connection { connections.removeValue(forKey: key) }
        }
        Self.close(connection)
    }

    /// Closes `connection`, held until its close completed (it must not go before).
    private static func close(_ connection: PostgresConnection) {
        let closed: EventLoopFuture<Void> = connection.close()
        closed.whenComplete { _ in _ = connection }
    }

    private func connection(
        for key: Key, settings: ConnectionSettings, logger: Logger, timeout: Duration
    ) async throws -> PostgresConnection {
        if let open = connections.withLock({ $0[key] }), !open.isClosed { return open }
        var configuration = try settings.connectionConfiguration()
        configuration.options.connectTimeout = .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000)
        let made = try await PostgresConnection.connect(configuration: configuration, id: Int.random(in: 1_000...Int.max), logger: logger)
        // Another operation of the lane may have made one meanwhile: the first one made stays,
        // so that neither closes the connection the other runs on.
        let (chosen, spare) = connections.withLock { connections -> (PostgresConnection, PostgresConnection?) in
            if let other = connections[key], !other.isClosed { return (other, made) }
            let closed = connections[key]
            connections[key] = made
            return (made, closed)
        }
        spare.map(Self.close)
        return chosen
    }
}
