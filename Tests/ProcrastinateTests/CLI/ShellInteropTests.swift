import Foundation
import Procrastinate
import Testing

/// Python's `procrastinate shell` and ours print the same thing for the same database.
@Suite struct ShellInteropTests {
    @Test func bothShellsPrintTheSame() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            try await app.configureTask(name: "sum", lock: "L").defer(["a": 1, "s": "it's \"quoted\"", "n": nil, "f": 2.5, "l": [1, false]])
            try await app.configureTask(name: "sum", priority: 3, scheduleAt: Date(timeIntervalSince1970: 4_000_000_000)).defer(["a": 2])
            let failed = try await app.configureTask(name: "mail", queue: "emails", lock: "L").defer(["to": "a@b.c", "nested": ["k": ["v"]]])
            try await app.configureTask(name: "mail", queue: "emails", queueingLock: "q").defer([:])
            _ = try await db.fetchJob(queues: ["emails"], workerID: nil)
            try await db.finishJob(id: failed, status: .failed, deleteJob: false)

            let commands = [
                "list_jobs", "list_jobs details", "list_jobs queue=emails details", "list_jobs status=todo lock=L",
                "list_jobs queueing_lock=q", "list_queues", "list_queues status=todo", "list_tasks", "list_tasks queue=emails",
                "list_locks", "list_locks status=failed",
            ]
            for command in commands {
                let python = try PythonReference.python(
                    ["-m", "procrastinate", "--app=shell_app.app", "shell"] + command.split(separator: " ").map(String.init),
                    environment: ["PROCRASTINATE_TEST_URL": try db.testURL]
                )
                #expect(try await python.exited() == 0, "\(python.errorOutput)")
                let ours = try await CommandLineRunner.run(
                    ["shell"] + command.split(separator: " ").map(String.init), environment: ["PROCRASTINATE_DATABASE_URL": try db.testURL]
                )
                #expect(ours.status == 0)
                #expect(ours.standardOutput.split(separator: "\n") == python.lines.map { Substring($0) }, "shell \(command)")
                #expect(!python.lines.isEmpty, "shell \(command) printed nothing")
            }
        }
    }
}
