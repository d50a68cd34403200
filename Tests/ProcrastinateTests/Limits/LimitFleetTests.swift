import Foundation
import Procrastinate
import Testing

/// Limits and paused queues across three worker processes (the `TestWorker` executable) of
/// concurrency 10 on one database, judged by what the job bodies themselves recorded. Timing
/// matters here, so `scripts/test` runs this suite on its own.
@Suite(.serialized) struct LimitFleetTests {
    struct Tenant: Codable, Sendable {
        var tenant: Int
        var milliseconds: Int
    }

    struct Pausable: Codable, Sendable {
        var milliseconds: Int
    }

    /// Three workers of concurrency 10 on `db`, with `arguments` more.
    private func startFleet(on db: PostgresConnector, _ arguments: [String] = []) throws -> [BackgroundProcess] {
        var environment = ProcessInfo.processInfo.environment
        environment["PROCRASTINATE_DATABASE_URL"] = try db.testURL
        return try (0..<3).map { _ in
            try BackgroundProcess("TestWorker", ["worker", "--concurrency", "10"] + arguments, environment: environment)
        }
    }

    private func stop(_ fleet: [BackgroundProcess]) async throws {
        fleet.forEach { $0.send(SIGTERM) }
        for process in fleet {
            #expect(try await process.exited() == 0, "\(process.errorOutput)")
        }
    }

    /// The fields of the lines starting with `tag`.
    private func records(_ tag: String, in fleet: [BackgroundProcess]) -> [[Substring]] {
        var records: [[Substring]] = []
        for line in fleet.flatMap(\.lines) {
            let fields = line.split(separator: " ")
            if fields.first == Substring(tag) { records.append(Array(fields.dropFirst())) }
        }
        return records
    }

    @Test func aKeyLimitHoldsAcrossThreeProcesses() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let tenant = try app.task("tenant", keyLimit: Limit(concurrency: 3), limitKey: { (job: Tenant) in "tenant:\(job.tenant)" }) { (_: Tenant) in }
            var random = SystemRandomNumberGenerator()
            _ = try await tenant.batchDefer((0..<300).map { Tenant(tenant: $0 % 5, milliseconds: Int.random(in: 20...50, using: &random)) })
            let fleet = try startFleet(on: db, ["--fetch-job-polling-interval", "0.1"])
            try await eventually("300 jobs to succeed", timeout: .seconds(120)) {
                try await app.jobManager.listJobs(JobFilter(status: .succeeded)).count == 300
            }
            try await stop(fleet)

            let runs = records("KEYED", in: fleet).compactMap { fields -> (tenant: Int, job: Int64, begin: Double, end: Double)? in
                guard fields.count == 4, let tenant = Int(fields[0]), let job = Int64(fields[1]), let begin = Double(fields[2]),
                    let end = Double(fields[3]) else { return nil }
                return (tenant, job, begin, end)
            }
            #expect(runs.count == 300)
            #expect(Set(runs.map(\.job)).count == 300, "every job ran once")
            #expect(fleet.filter { !records("KEYED", in: [$0]).isEmpty }.count >= 2, "several processes ran jobs")
            // At every instant (each begin), the runs of its tenant that overlap it: at most 3.
            var busiest = 0
            for tenant in 0..<5 {
                let mine = runs.filter { $0.tenant == tenant }
                for run in mine {
                    let overlapping = mine.count { $0.begin <= run.begin && $0.end > run.begin }
                    busiest = max(busiest, overlapping)
                    #expect(overlapping <= 3, "tenant \(tenant) ran \(overlapping) at once at \(run.begin)")
                }
            }
            #expect(busiest == 3, "the limit was reached")
        }
    }

    @Test func aRateLimitHoldsAcrossThreeProcesses() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let rated = try app.task("rated") { (_: NoArguments) in }
            _ = try await rated.batchDefer(Array(repeating: NoArguments(), count: 1_500))
            // The default poll (5 s): the workers wake when the window opens, as the database says.
            let fleet = try startFleet(on: db)
            let starts = { @Sendable in self.records("RATED", in: fleet).compactMap { $0.count == 2 ? Double($0[1]) : nil }.sorted() }
            try await eventually("21 seconds of starts", timeout: .seconds(60)) {
                let times = starts()
                return times.count > 1 && times.last! - times.first! > 21
            }
            try await stop(fleet)

            let times = starts()
            let first = times[0]
            let inTwenty = times.count { $0 < first + 20 }
            #expect((950...1_000).contains(inTwenty), "\(inTwenty) starts in the first 20 s")
            let busiest = times.map { start in times.count { $0 >= start && $0 < start + 1 } }.max() ?? 0
            #expect(busiest <= 55, "\(busiest) starts in one second")
            print("limits: a rate of 50/s: \(inTwenty) starts in 20 s, at most \(busiest) in one second")
            let started = try await app.jobManager.listJobs().count { $0.status != .todo }
            #expect(started == times.count, "every start recorded by the database ran once")
        }
    }

    @Test func pausingStopsStartsWithinASecondAcrossThreeProcessesAndRestarts() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let pausable = try app.task("pausable", queue: "pausable") { (_: Pausable) in }
            _ = try await pausable.batchDefer(Array(repeating: Pausable(milliseconds: 100), count: 3_000))
            let fleet = try startFleet(on: db)
            let starts = { @Sendable (processes: [BackgroundProcess]) in
                self.records("PAUSABLE", in: processes).compactMap { $0.count == 2 ? Double($0[1]) : nil }.sorted()
            }
            try await eventually("jobs to start") { starts(fleet).count >= 30 }

            #expect(try await app.jobManager.pause(queue: "pausable"))
            let pausedAt = Date().timeIntervalSince1970
            // Paused across a restart: a process replaced meanwhile claims nothing either.
            fleet[0].send(SIGTERM)
            #expect(try await fleet[0].exited() == 0)
            var environment = ProcessInfo.processInfo.environment
            environment["PROCRASTINATE_DATABASE_URL"] = try db.testURL
            let replacement = try BackgroundProcess("TestWorker", ["worker", "--concurrency", "10"], environment: environment)
            let current = Array(fleet.dropFirst()) + [replacement]
            try await Task.sleep(for: .seconds(3))
            let late = starts(fleet + [replacement]).filter { $0 > pausedAt + 1 }
            #expect(late.isEmpty, "\(late.count) jobs started more than a second after the pause")

            #expect(try await app.jobManager.resume(queue: "pausable"))
            let resumedAt = Date().timeIntervalSince1970
            try await eventually("jobs to start again", timeout: .seconds(10)) { starts(current).contains { $0 > resumedAt } }
            let firstAfter = try #require(starts(current).first { $0 > resumedAt })
            // The workers hear the resume (NOTIFY), not their 5-second poll.
            #expect(firstAfter - resumedAt < 0.1, "the first job started \(firstAfter - resumedAt) s after the resume")
            let lastBefore = starts(fleet + [replacement]).filter { $0 < resumedAt }.max() ?? pausedAt
            print("limits: last start \(lastBefore - pausedAt) s after the pause, first \(firstAfter - resumedAt) s after the resume")
            try await stop(current)
        }
    }
}
