import Foundation
import Procrastinate
import Testing

/// `limits`, `queues pause|resume|paused` and the shell's limit commands, run as executables.
@Suite struct LimitCommandTests {
    func run(_ arguments: [String], in db: PostgresConnector, input: String? = nil) async throws -> CommandLineRunner.Output {
        try await CommandLineRunner.run(
            arguments, executable: "procrastinate", environment: ["PROCRASTINATE_DATABASE_URL": try db.testURL], input: input
        )
    }

    @Test func setListAndRemoveLimits() async throws {
        try await TestDatabase.withDatabase { db in
            #expect(try await run(["limits"], in: db).standardOutput == "No limits\n")
            let set = try await run(["limits", "set", "queue", "emails", "--concurrency", "20", "--rate", "100/m"], in: db)
            #expect(set.status == 0, "\(set.standardError)")
            #expect(try await run(["limits", "set", "task", "sync", "--rate", "5/500ms", "--burst", "5"], in: db).status == 0)
            _ = try await App(connector: db).configureTask(name: "mail", queue: "emails").defer([:])

            let listed = try await run(["limits"], in: db)
            #expect(listed.standardOutput == """
                queue emails: concurrency 20 (0 running), rate 100/60s burst 10 (0 started), 1 waiting
                task sync: 0 running, rate 5/0.5s burst 5 (0 started), 0 waiting

                """)
            let json = try await run(["limits", "--json"], in: db)
            let reports = try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [[String: Any]]
            #expect(reports?.first?["concurrency"] as? Int == 20)
            #expect(reports?.first?["rate_period_seconds"] as? Double == 60)
            #expect(reports?.first?["waiting"] as? Int == 1)

            let empty = try await run(["limits", "set", "queue", "emails"], in: db)
            #expect(empty.status == 1)
            #expect(empty.standardError.contains("the limit of queue 'emails' gives neither a concurrency nor a rate"))
            let badRate = try await run(["limits", "set", "queue", "emails", "--rate", "5/week"], in: db)
            #expect(badRate.status != 0)
            #expect(badRate.standardError.contains("The value '5/week' is invalid for '--rate <rate>'"))

            #expect(try await run(["limits", "remove", "queue", "emails"], in: db).status == 0)
            let shell = try await run(["shell"], in: db, input: "list_limits\n")
            #expect(shell.standardOutput == "task sync: 0 running, rate 5/0.5s burst 5 (0 started), 0 waiting\n")
        }
    }

    @Test func pauseAndResumeAQueue() async throws {
        try await TestDatabase.withDatabase { db in
            #expect(try await run(["queues", "pause", "emails"], in: db).standardOutput == "Paused queue emails\n")
            #expect(try await run(["queues", "pause", "emails"], in: db).standardOutput == "Queue emails was paused already\n")
            let paused = try await run(["queues", "paused", "--json"], in: db)
            #expect(paused.standardOutput.hasPrefix(#"[{"name":"emails","paused_at":"#))
            #expect(try await App(connector: db).jobManager.pausedQueues().map(\.name) == ["emails"])
            let shell = try await run(["shell"], in: db, input: "resume_queue emails\nresume_queue emails\npause_queue\n")
            #expect(shell.standardOutput == "Resumed queue emails\nQueue emails was not paused\n")
            #expect(shell.standardError.contains("Error: expected one queue name, not ''"))
            #expect(try await run(["queues", "paused"], in: db).standardOutput == "No queue is paused\n")
            // The counts stay the default of `queues`.
            #expect(try await run(["queues"], in: db).standardOutput == "No jobs\n")
        }
    }
}
