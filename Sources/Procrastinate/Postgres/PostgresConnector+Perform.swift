import PostgresNIO
import Synchronization

extension PostgresConnector {
    /// Runs one of the connector's own operations on a pooled connection, bounded and
    /// acknowledged:
    ///
    /// - Bounded: when no connection was leased and answered within ``queryTimeout``, the
    ///   connection is closed (the pool makes another) and the operation fails with a
    ///   ``DatabaseError`` saying so. A server that stops answering never hangs a worker.
    /// - Acknowledged: it returns only once the statement's transaction committed. PostgreSQL
    ///   commits a statement outside a transaction block at the Sync message after its rows,
    ///   which PostgresNIO does not wait for; a trivial query on the same connection waits for
    ///   it (one more round trip), so that no caller hears of a write a crash can take back.
    func perform<Result: Sendable>(
        _ operation: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try checkOpen()
        let leased = LeasedConnection()
        let (client, logger, timeout) = (client, logger, queryTimeout)
        do {
            return try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        leased.set(connection)
                        let result = try await operation(connection)
                        try await connection.query("SELECT 1", logger: logger)
                        return result
                    }
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                if let result = try await group.next() ?? nil {
                    return result
                }
                leased.close()
                throw DatabaseError.noAnswer(endpoint: endpoint, within: timeout)
            }
        } catch {
            throw describe(error)
        }
    }
}

/// The connection an operation leased, to close when it stops answering.
private final class LeasedConnection: Sendable {
    private let connection = Mutex<PostgresConnection?>(nil)

    func set(_ leased: PostgresConnection) {
        connection.withLock { $0 = leased }
    }

    func close() {
        if let leased = connection.withLock({ $0 }) {
            let _: EventLoopFuture<Void> = leased.close()
        }
    }
}
