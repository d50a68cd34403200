import Foundation
import PostgresNIO
import Testing

@testable import Procrastinate

/// Direct SQL on the schema's functions and tables, for the SQL behaviour tests.
extension PostgresConnector {
    /// Defers one job through `procrastinate_defer_jobs_v1`; returns its id.
    @discardableResult
    func deferJob(
        queue: String = "default", task: String = "task", priority: Int = 0, lock: String? = nil,
        queueingLock: String? = nil, args: String = "{}", scheduledAt: Date? = nil
    ) async throws -> Int64 {
        let ids = try await rows(
            """
            SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[
                ROW(\(queue), \(task), \(priority)::integer, \(lock), \(queueingLock), \(args)::jsonb, \(scheduledAt))::procrastinate_job_to_defer_v1
            ]))
            """,
            as: Int64.self
        )
        return ids[0]
    }

    /// Fetches through `procrastinate_fetch_job_v2`; returns the job id, nil when none.
    func fetchJobID(queues: [String]? = nil, workerID: Int64? = nil) async throws -> Int64? {
        try await value("SELECT id FROM procrastinate_fetch_job_v2(\(queues), \(workerID))", as: Int64?.self) ?? nil
    }

    /// A job's status, attempts and abort flag.
    func jobState(_ id: Int64) async throws -> (status: String, attempts: Int, abortRequested: Bool)? {
        try await rows(
            "SELECT status::text, attempts, abort_requested FROM procrastinate_jobs WHERE id = \(id)",
            as: (String, Int, Bool).self
        ).first.map { (status: $0.0, attempts: $0.1, abortRequested: $0.2) }
    }

    /// The event types recorded for a job, in order.
    func events(_ id: Int64) async throws -> [String] {
        try await rows(
            "SELECT type::text FROM procrastinate_events WHERE job_id = \(id) ORDER BY id", as: String.self
        )
    }

    /// Runs `body` while listening on `channels` of a dedicated connection, and returns the
    /// first `count` notifications as `channel: payload`.
    func notifications(
        on channels: [String], count: Int, during body: @escaping @Sendable () async throws -> Void
    ) async throws -> [String] {
        let settings = try #require(self.settings)
        let connection = try await PostgresConnection.connect(
            configuration: settings.connectionConfiguration(), id: 3, logger: TestDatabase.logger
        )
        defer { Task { try? await connection.close() } }
        let received = Received()
        for channel in channels {
            _ = connection.addListener(channel: channel) { _, notification in
                received.append("\(notification.channel): \(notification.payload)")
            }
            try await connection.query(PostgresQuery(unsafeSQL: "LISTEN \"\(channel)\""), logger: TestDatabase.logger)
        }
        try await body()
        return try await within(waitingFor: "\(count) notifications") {
            while received.lines.count < count {
                try await Task.sleep(for: .milliseconds(5))
            }
            return received.lines
        }
    }
}

/// Notifications gathered by a listener callback.
final class Received: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []

    func append(_ line: String) {
        lock.withLock { storage.append(line) }
    }

    var lines: [String] {
        lock.withLock { storage }
    }
}
