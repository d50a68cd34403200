import Foundation
import Procrastinate
import Testing

/// Liveness across three worker processes (the `TestWorker` executable) of concurrency 10 on one
/// database, where limits *bind*: the room a job frees is taken at once by some worker, in
/// whichever process, rather than at the next poll (the default 5 s here, so that a worker
/// waiting for it shows). Judged by what the job bodies recorded, against what the limit
/// allows: a worker that waited for its poll reaches a few percent of it (3 jobs every 5 s
/// where 66 a second are allowed), so these tests ask for three quarters, which a debug build
/// on two loaded cores reaches; the figures of a release build against the ideal are the
/// benchmark's (`limits_bind_*`). Timing matters here, so `scripts/test` runs this suite on its
/// own.
@Suite(.serialized) struct LivenessFleetTests {
    struct Sleep: Codable, Sendable {
        var milliseconds: Int
    }

    /// The fields of the lines starting with `tag`, from every process.
    private func records(_ tag: String, in fleet: [BackgroundProcess]) -> [[Substring]] {
        fleet.flatMap(\.lines).compactMap { line in
            let fields = line.split(separator: " ")
            return fields.first == Substring(tag) ? Array(fields.dropFirst()) : nil
        }
    }

    /// Three workers of concurrency 10 on `db`, each reading the queues given (nil: every queue).
    private func startFleet(on db: PostgresConnector, queues: [String?] = [nil, nil, nil]) throws -> [BackgroundProcess] {
        var environment = ProcessInfo.processInfo.environment
        environment["PROCRASTINATE_DATABASE_URL"] = try db.testURL
        return try queues.map { queue in
            try BackgroundProcess("TestWorker", ["worker", "--concurrency", "10"] + (queue.map { ["--queues", $0] } ?? []), environment: environment)
        }
    }

    /// The runs of `bounded` the fleet recorded: checks that at most 3 overlapped, and returns
    /// their steady rate of starts against the ideal, 3 ÷ their mean duration.
    private func boundedRuns(in fleet: [BackgroundProcess], count: Int) throws -> (achieved: Double, ideal: Double, busiest: Int) {
        let runs = records("BOUNDED", in: fleet).compactMap { fields -> (begin: Double, end: Double)? in
            guard fields.count == 3, let begin = Double(fields[1]), let end = Double(fields[2]) else { return nil }
            return (begin, end)
        }
        try #require(runs.count == count)
        let busiest = runs.map { run in runs.count { $0.begin <= run.begin && $0.end > run.begin } }.max() ?? 0
        #expect(busiest <= 3, "\(busiest) ran at once")
        let meanDuration = runs.map { $0.end - $0.begin }.reduce(0, +) / Double(runs.count)
        // The steady rate: starts from the 4th (the first three start together) to the last.
        let begins = runs.map(\.begin).sorted()
        let steady = Double(begins.count - 4) / (begins.last! - begins[3])
        // What bounds the rate: from each end to the start that took its room.
        let ends = runs.map(\.end).sorted()
        let handovers = runs.map(\.begin).sorted().dropFirst(3).compactMap { begin in ends.last { $0 <= begin }.map { begin - $0 } }.sorted()
        if !handovers.isEmpty {
            print("liveness: from a job's end to the next start: median \(Int(handovers[handovers.count / 2] * 1_000_000)) µs, 90th percentile \(Int(handovers[handovers.count * 9 / 10] * 1_000_000)) µs")
        }
        return (steady, 3 / meanDuration, busiest)
    }

    private func stop(_ fleet: [BackgroundProcess]) async throws {
        fleet.forEach { $0.send(SIGTERM) }
        for process in fleet {
            #expect(try await process.exited() == 0, "\(process.errorOutput)")
        }
    }

    /// The operator's case: `limits set task bounded --concurrency 3` over three processes of
    /// concurrency 10, jobs of 30–60 ms. Ideal: 3 ÷ the mean duration.
    @Test func aBindingTaskConcurrencyLimitRunsAtTheRateItAllows() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let bounded = try app.task("bounded") { (_: Sleep) in }
            try await app.jobManager.setLimit(Limit(concurrency: 3), for: .task("bounded"))
            var random = SystemRandomNumberGenerator()
            _ = try await bounded.batchDefer((0..<150).map { _ in Sleep(milliseconds: Int.random(in: 30...60, using: &random)) })
            let fleet = try startFleet(on: db)
            try await eventually("150 jobs to succeed", timeout: .seconds(120)) {
                try await app.jobManager.listJobs(JobFilter(status: .succeeded)).count == 150
            }
            try await stop(fleet)

            let (achieved, ideal, busiest) = try boundedRuns(in: fleet, count: 150)
            print("liveness: a task limit of 3 over three processes: \(Int(achieved)) jobs/s of an ideal \(Int(ideal)) (\(Int(achieved / ideal * 100)) %), at most \(busiest) at once")
            #expect(achieved >= 0.75 * ideal, "\(achieved) jobs/s where the limit allows \(ideal)")
        }
    }

    /// The room a job frees goes to another process when its own worker cannot use it: one
    /// process reads queue `left` only, two read `right` only, under one task limit of 3. The
    /// left jobs run out first (or the right ones), and their room must pass to the other
    /// queue's workers at once (a `room_freed` notification), not at their poll.
    @Test func theRoomAJobFreesPassesToAnotherProcess() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let bounded = try app.task("bounded") { (_: Sleep) in }
            try await app.jobManager.setLimit(Limit(concurrency: 3), for: .task("bounded"))
            var random = SystemRandomNumberGenerator()
            for queue in ["left", "right"] {
                _ = try await bounded.configure(queue: queue).batchDefer((0..<60).map { _ in Sleep(milliseconds: Int.random(in: 30...60, using: &random)) })
            }
            let fleet = try startFleet(on: db, queues: ["left", "right", "right"])
            try await eventually("120 jobs to succeed", timeout: .seconds(120)) {
                try await app.jobManager.listJobs(JobFilter(status: .succeeded)).count == 120
            }
            try await stop(fleet)

            let (achieved, ideal, busiest) = try boundedRuns(in: fleet, count: 120)
            print("liveness: a task limit of 3 over two queues' processes: \(Int(achieved)) jobs/s of an ideal \(Int(ideal)) (\(Int(achieved / ideal * 100)) %), at most \(busiest) at once")
            #expect(achieved >= 0.75 * ideal, "\(achieved) jobs/s where the limit allows \(ideal)")
            #expect(!records("BOUNDED", in: [fleet[0]]).isEmpty && !records("BOUNDED", in: Array(fleet.dropFirst())).isEmpty)
        }
    }

    /// `limits set task paced --rate 20/1s` over three processes: the rate is reached (at least
    /// 97 % over 10 s) and never passed (at most 20 starts in any second).
    @Test func aRateOfTwentyASecondRunsAtItsRate() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let paced = try app.task("paced") { (_: NoArguments) in }
            try await app.jobManager.setLimit(Limit(rate: Limit.Rate(20, per: .seconds(1))), for: .task("paced"))
            _ = try await paced.batchDefer(Array(repeating: NoArguments(), count: 300))
            let fleet = try startFleet(on: db)
            let starts = { @Sendable in self.records("PACED", in: fleet).compactMap { $0.count == 2 ? Double($0[1]) : nil }.sorted() }
            try await eventually("11 seconds of starts", timeout: .seconds(60)) {
                let times = starts()
                return times.count > 1 && times.last! - times.first! > 11
            }
            try await stop(fleet)

            let times = starts()
            let inTen = times.count { $0 < times[0] + 10 }
            let busiest = times.map { start in times.count { $0 >= start && $0 < start + 1 } }.max() ?? 0
            print("liveness: a rate of 20/s: \(inTen) starts in 10 s (\(inTen * 100 / 200) % of the rate), at most \(busiest) in one second")
            #expect(inTen >= 194, "\(inTen) starts in 10 s where the rate allows 200")
            #expect(busiest <= 20, "\(busiest) starts in one second")
        }
    }
}
