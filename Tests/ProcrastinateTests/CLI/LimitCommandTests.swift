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
            #expect(try await run(["limits"], in: db).standardOutput == "No limits, and no queue is paused\n")
            let set = try await run(["limits", "set", "queue", "emails", "--concurrency", "20", "--rate", "100/m", "--new"], in: db)
            #expect(set.status == 0, "\(set.standardError)")
            #expect(try await run(["limits", "set", "task", "sync", "--rate", "5/500ms", "--burst", "5", "--new"], in: db).status == 0)
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

    @Test func numbersOutOfRangeAreRefusedByName() async throws {
        try await TestDatabase.withDatabase { db in
            _ = try await App(connector: db).configureTask(name: "make_thumbnail").defer([:])
            let huge = try await run(["limits", "set", "task", "make_thumbnail", "--concurrency", "99999999999"], in: db)
            #expect(huge.status == 1, "\(huge.standardError)")
            #expect(huge.standardError.contains("the concurrency limit of task 'make_thumbnail' is 99999999999; it must be from 1 to 2147483647"))
            let negative = try await run(["limits", "set", "task", "make_thumbnail", "--concurrency", "-3"], in: db)
            #expect(negative.standardError.contains("is -3; it must be from 1 to"), "\(negative.standardError)")
            let worker = try await run(["worker", "--concurrency", "-3"], in: db)
            #expect(worker.status == 1 && worker.standardError.contains("--concurrency must be at least 1, not -3"), "\(worker.standardError)")
            let delay = try await run(["defer", "make_thumbnail", "--in", "-5"], in: db)
            #expect(delay.status != 0 && delay.standardError.contains("--in must be 0 or more seconds, not -5"), "\(delay.standardError)")
            let priority = try await run(["defer", "make_thumbnail", "--priority", "99999999999", "--unknown"], in: db)
            #expect(priority.standardError.contains("the priority of task 'make_thumbnail' is 99999999999; it must be from -2147483648 to 2147483647"))
            let age = try await run(["jobs", "prune", "--older-than", "99999999999999999d"], in: db)
            #expect(age.status != 0 && !age.standardError.contains("Fatal"), "\(age.standardError)")
            #expect(try await run(["limits"], in: db).standardOutput == "No limits, and no queue is paused\n")
        }
    }

    @Test func aLimitOrAPauseOfAnUnknownNameIsRefusedAsATypo() async throws {
        try await TestDatabase.withDatabase { db in
            _ = try await App(connector: db).configureTask(name: "make_thumbnail", queue: "images").defer([:])
            let task = try await run(["limits", "set", "task", "make_thumbnial", "--concurrency", "3"], in: db)
            #expect(task.status == 1)
            #expect(task.standardError.contains("no task 'make_thumbnial' is registered, has jobs or has a limit (known: make_thumbnail)"))
            let queue = try await run(["queues", "pause", "nosuchqueue"], in: db)
            #expect(queue.status == 1 && queue.standardError.contains("no queue 'nosuchqueue'"), "\(queue.standardError)")
            #expect(try await run(["limits", "set", "task", "make_thumbnail", "--concurrency", "3"], in: db).status == 0)
            #expect(try await run(["queues", "pause", "images"], in: db).status == 0)
            let empty = try await run(["limits", "set", "key", "", "--concurrency", "3"], in: db)
            #expect(empty.status == 1 && empty.standardError.contains("a key name cannot be empty"), "\(empty.standardError)")
            let nothing = try await run(["limits", "remove", "queue", "nothere"], in: db)
            #expect(nothing.status == 1 && nothing.standardError.contains("queue nothere has no limit"), "\(nothing.standardError)")
            // Jobs held by the paused queue say so.
            #expect(try await run(["jobs", "list"], in: db).standardOutput.contains("[queue images is paused]"))
            #expect(try await run(["limits"], in: db).standardOutput.hasSuffix("queue images: paused since \(try await pausedSince(db))\n"))
        }
    }

    func pausedSince(_ db: PostgresConnector) async throws -> String {
        let since = try #require(try await App(connector: db).jobManager.pausedQueues().first?.since)
        let seconds = since.timeIntervalSince1970.rounded(.down)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate]
        let fraction = Int(((since.timeIntervalSince1970 - seconds) * 1_000_000).rounded())
        return formatter.string(from: Date(timeIntervalSince1970: seconds)).replacingOccurrences(of: "T", with: " ")
            + (fraction == 0 ? "" : "." + String(format: "%06d", fraction)) + "+00:00"
    }

    @Test func keyLimitsAreListedAndRemovedOnceNoJobNamesThem() async throws {
        try await TestDatabase.withDatabase { db in
            #expect(try await run(["limits", "set", "key", "tenant:1", "--concurrency", "2"], in: db).status == 0)
            #expect(try await run(["limits"], in: db).standardOutput == "key tenant:1: concurrency 2 (0 running), 0 waiting\n")
            let app = App(connector: db)
            struct Job: Codable, Sendable { var tenant: Int }
            let task = try app.task("sync", keyLimit: Limit(concurrency: 2), limitKey: { (job: Job) in "tenant:\(job.tenant)" }) { (_: Job) in }
            try await task.defer(Job(tenant: 1))
            let refused = try await run(["limits", "remove", "key", "tenant:1"], in: db)
            #expect(refused.status == 1 && refused.standardError.contains("limit key 'tenant:1' is named by 1 job"), "\(refused.standardError)")
            try await app.jobManager.delete(id: try #require(try await app.jobManager.listJobs().first?.id))
            let removed = try await run(["limits", "remove", "key", "tenant:1"], in: db)
            #expect(removed.status == 0, "\(removed.standardError)")
            #expect(try await run(["limits"], in: db).standardOutput == "No limits, and no queue is paused\n")
        }
    }

    @Test func pauseAndResumeAQueue() async throws {
        try await TestDatabase.withDatabase { db in
            #expect(try await run(["queues", "pause", "emails", "--new"], in: db).standardOutput == "Paused queue emails\n")
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
