import PostgresNIO
import Synchronization

extension PostgresConnector: NotifyingConnector {
    /// Listens on a dedicated connection (a pooled one when the connector was given a client),
    /// checking it every 5 seconds, so that a connection that died or stopped answering is
    /// noticed and the caller makes another.
    public func listen(
        queues: [String]?, onReady: @escaping @Sendable () -> Void,
        onNotification: @escaping @Sendable (JobNotification) -> Void
    ) async throws {
        if let settings {
            let connection: PostgresConnection
            do {
                connection = try await PostgresConnection.connect(
                    configuration: settings.connectionConfiguration(), id: Int.random(in: 1_000...Int.max), logger: logger
                )
            } catch {
                throw describe(error)
            }
            defer { Task { try? await connection.close() } }
            try await listen(on: connection, queues: queues, onReady: onReady, onNotification: onNotification)
        } else {
            try await withConnection { connection in
                try await listen(on: connection, queues: queues, onReady: onReady, onNotification: onNotification)
            }
        }
    }

    private func listen(
        on connection: PostgresConnection, queues: [String]?, onReady: @escaping @Sendable () -> Void,
        onNotification: @escaping @Sendable (JobNotification) -> Void
    ) async throws {
        let channels = JobNotification.channels(for: queues)
        let ready = ReadyCounter(expected: channels.count, onReady: onReady)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for channel in channels {
                    group.addTask {
                        try await connection.listen(on: channel) { notifications in
                            ready.oneMore()
                            for try await notification in notifications {
                                if let parsed = JobNotification(payload: notification.payload) {
                                    onNotification(parsed)
                                }
                            }
                        }
                    }
                }
                group.addTask {
                    // A connection whose peer vanished fails this check; the listener then ends.
                    while true {
                        try await Task.sleep(for: .seconds(5))
                        try await self.checkAnswers(connection, within: .seconds(5))
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        } catch is CancellationError {
            return
        } catch {
            throw describe(error)
        }
    }
}

extension PostgresConnector {
    /// Throws unless `connection` answers a query within `timeout`; a connection that does not
    /// is closed.
    fileprivate func checkAnswers(_ connection: PostgresConnection, within timeout: Duration) async throws {
        let logger = logger
        try await Self.bounded(within: timeout, endpoint: endpoint, onTimeout: { let _: EventLoopFuture<Void> = connection.close() }) {
            _ = try await connection.query("SELECT 1", logger: logger).collect()
        }
    }
}

/// Calls `onReady` when `expected` listeners are listening.
private final class ReadyCounter: Sendable {
    private let remaining: Mutex<Int>
    private let onReady: @Sendable () -> Void

    init(expected: Int, onReady: @escaping @Sendable () -> Void) {
        self.remaining = Mutex(expected)
        self.onReady = onReady
    }

    func oneMore() {
        let done = remaining.withLock { remaining in
            remaining -= 1
            return remaining == 0
        }
        if done { onReady() }
    }
}
