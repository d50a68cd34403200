import Foundation
import PostgresNIO
import Procrastinate
import Testing

/// A job deferred from Swift has exactly the row Python Procrastinate 3.10 writes for the same call.
@Suite struct PythonRowTests {
    struct Mail: Codable, Sendable {
        var to: String
        var subject: String
    }

    /// Runs the Python script; returns the ids it printed.
    func deferWithPython(url: String) async throws -> [Int64] {
        let python = try PythonReference.start("defer_reference_jobs.py", [url])
        #expect(try await python.exited() == 0, "\(python.errorOutput)")
        return python.lines.compactMap { Int64($0) }
    }

    /// Every column but the id, and the event types.
    func row(_ id: Int64, in db: PostgresConnector) async throws -> [String] {
        let columns = try #require(try await db.rows(
            """
            SELECT queue_name || '|' || task_name || '|' || priority || '|' || coalesce(lock, 'NULL') || '|'
                || coalesce(queueing_lock, 'NULL') || '|' || args::text || '|' || status::text || '|'
                || coalesce(scheduled_at::text, 'NULL') || '|' || attempts || '|' || abort_requested || '|'
                || coalesce(worker_id::text, 'NULL')
            FROM procrastinate_jobs WHERE id = \(id)
            """,
            as: String.self
        ).first)
        return [columns] + (try await db.events(id))
    }

    @Test func swiftWritesPythonsRows() async throws {
        try await TestDatabase.withDatabase { db in
            let pythonIDs = try await deferWithPython(url: try db.testURL)
            #expect(pythonIDs.count == 6)
            // The queueing lock "q" is Python's now; free it so that Swift can take it too.
            try await db.execute("UPDATE procrastinate_jobs SET status = 'cancelled' WHERE queueing_lock = 'q'")

            let app = App(connector: db, logger: TestDatabase.logger)
            let sum = try app.task("sum", queue: "math", priority: 1) { (_: Sum) in }
            let send = try app.task("send_email") { (_: Mail) in }
            var swiftIDs: [Int64] = []
            swiftIDs.append(try await sum.defer(Sum(a: 3, b: 5)))
            swiftIDs.append(try await sum.configure(
                queue: "other", priority: 7, lock: "l", queueingLock: "q", scheduleAt: Date(timeIntervalSince1970: 4_000_000_000)
            ).defer(Sum(a: 1, b: 2)))
            swiftIDs.append(try await send.configure(extraArguments: ["subject": "Base", "cc": "x"]).defer(Mail(to: "a@b.c", subject: "Hi")))
            swiftIDs += try await sum.batchDefer([Sum(a: 1, b: 1), Sum(a: 2, b: 2)])
            swiftIDs.append(try await app.configureTask(name: "elsewhere.task", queue: "py").defer(
                ["values": [1, 2.5, nil, true], "nested": ["k": "v"]]
            ))
            try await db.execute("UPDATE procrastinate_jobs SET status = 'cancelled' WHERE queueing_lock = 'q'")

            for (python, swift) in zip(pythonIDs, swiftIDs) {
                #expect(try await row(swift, in: db) == row(python, in: db), "Python job \(python) vs Swift job \(swift)")
            }
        }
    }
}
