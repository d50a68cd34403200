import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PostgresNIO
import Procrastinate
import Testing

/// Workers in separate processes (the `TestWorker` executable) on one database.
@Suite struct WorkerProcessTests {
    struct Locked: Codable, Sendable {
        var index: Int
        var sleepMilliseconds: Int
    }

    struct Sleepy: Codable, Sendable {
        var seconds: Int
    }

    @Test func jobsOfOneLockNeverOverlapAcrossProcesses() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let locked = try app.task("locked") { (_: Locked) in }
            let deferJobs = { (indices: Range<Int>) in
                for index in indices {
                    try await locked.configure(lock: "lock-\(index % 3)").defer(Locked(index: index, sleepMilliseconds: 20))
                }
            }
            try await deferJobs(0..<30)
            var environment = ProcessInfo.processInfo.environment
            environment["PROCRASTINATE_DATABASE_URL"] = try db.testURL
            let start = {
                try BackgroundProcess("TestWorker", ["worker", "--concurrency", "4", "--fetch-job-polling-interval", "0.1"], environment: environment)
            }
            let succeeded: @Sendable () async throws -> Int = { try await app.jobManager.listJobs(JobFilter(status: .succeeded)).count }
            // A worker keeps a lock's jobs while it runs (each outcome's transaction claims the
            // next one): the second worker takes the locks over when the first one stops, and
            // the jobs deferred then are left to it, however fast the first one was.
            let first = try start()
            try await eventually("a few jobs to succeed", timeout: .seconds(60)) { try await succeeded() >= 6 }
            let second = try start()
            first.send(SIGTERM)
            try await deferJobs(30..<60)
            #expect(try await first.exited() == 0, "\(first.errorOutput)")
            try await eventually("every job to succeed", timeout: .seconds(60)) { try await succeeded() == 60 }
            second.send(SIGTERM)
            #expect(try await second.exited() == 0, "\(second.errorOutput)")
            let workers = [first, second]

            // From the bodies: per lock, each run ends before the next starts.
            let runs = workers.flatMap(\.lines).compactMap { line -> (lock: String, start: Double, end: Double)? in
                let parts = line.split(separator: " ")
                guard parts.count == 5, parts[0] == "RAN", let start = Double(parts[3]), let end = Double(parts[4]) else { return nil }
                return (String(parts[1]), start, end)
            }
            #expect(runs.count == 60)
            #expect(Set(workers.map { $0.lines.count }).allSatisfy { $0 > 0 }, "both processes ran jobs")
            for lock in ["lock-0", "lock-1", "lock-2"] {
                let intervals = runs.filter { $0.lock == lock }.sorted { $0.start < $1.start }
                for (earlier, later) in zip(intervals, intervals.dropFirst()) {
                    #expect(earlier.end <= later.start, "\(lock) overlaps")
                }
            }
            // From the events table: per lock, started and succeeded alternate, for the same job.
            let events = try await db.rows(
                """
                SELECT job.lock, event.job_id, event.type::text FROM procrastinate_events AS event
                JOIN procrastinate_jobs AS job ON job.id = event.job_id
                WHERE event.type IN ('started', 'succeeded') ORDER BY event.id
                """,
                as: (String, Int64, String).self
            )
            for lock in ["lock-0", "lock-1", "lock-2"] {
                let sequence = events.filter { $0.0 == lock }
                #expect(sequence.count == 40)
                for pair in stride(from: 0, to: sequence.count - 1, by: 2) {
                    #expect(sequence[pair].2 == "started" && sequence[pair + 1].2 == "succeeded" && sequence[pair].1 == sequence[pair + 1].1)
                }
            }
        }
    }

    @Test func aKilledWorkersJobIsRecoveredByAnotherWorker() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let journal = Journal()
            let sleepy = try app.task("sleepy", retry: RetryStrategy(maxAttempts: 1)) { (_: Sleepy, context: JobContext) in
                journal.record("attempt \(context.job.attempts)")
            }
            let id = try await sleepy.defer(Sleepy(seconds: 600))
            var environment = ProcessInfo.processInfo.environment
            environment["PROCRASTINATE_DATABASE_URL"] = try db.testURL
            let doomed = try BackgroundProcess("TestWorker", ["worker", "--update-heartbeat-interval", "0.2"], environment: environment)
            try await eventually("the job to start in the process") { doomed.lines.contains("STARTED \(id)") }
            doomed.send(SIGKILL)
            try await doomed.exited()
            #expect(try await app.jobManager.status(of: id) == .doing)

            let rescuer = RunningWorker(Worker(app: app, options: .test(stalledJobRecoveryThreshold: .seconds(1))))
            try await eventually("the job to be recovered and run") { try await app.jobManager.status(of: id) == .succeeded }
            try await rescuer.stop()
            #expect(journal.labels == ["attempt 1"])
            #expect(try await app.jobManager.job(id: id)?.attempts == 2)
        }
    }
}

/// The listening connection of a worker, lost and found again.
@Suite struct ListenerReconnectionTests {
    @Test func aLostListenerReconnectsAndCatchesUp() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let journal = Journal()
            let sum = try app.task("sum") { (arguments: Sum) in journal.record("\(arguments.a)") }
            // Polling an hour apart: only notifications and the catch-up pass can start jobs.
            let options = WorkerOptions(fetchJobPollingInterval: .seconds(3600), updateHeartbeatInterval: .seconds(1))
            let worker = RunningWorker(Worker(app: app, options: options))
            try await eventually("the listener") { worker.worker.isListening }

            let terminated = try await db.rows(
                """
                SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity
                WHERE datname = current_database() AND query LIKE 'LISTEN%'
                """,
                as: Int.self
            )
            #expect(terminated == [1])
            // Deferred while nobody listens: its notification is lost.
            try await eventually("the worker to notice") { !worker.worker.isListening }
            let lost = try await sum.defer(Sum(a: 1, b: 0))
            try await eventually("the catch-up pass to run the job") { try await app.jobManager.status(of: lost) == .succeeded }
            try await eventually("the listener again") { worker.worker.isListening }
            let heard = try await sum.defer(Sum(a: 2, b: 0))
            try await eventually("the notification to start the job") { try await app.jobManager.status(of: heard) == .succeeded }
            try await worker.stop()
            #expect(journal.labels == ["1", "2"])
        }
    }
}

/// `worker --metrics-port`: the worker's own metrics in the Prometheus text format.
@Suite struct WorkerMetricsEndpointTests {
    struct Chaos: Codable, Sendable {
        var milliseconds: Int
    }

    @Test func aWorkerServesItsMetricsWhileItRuns() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let chaos = try app.task("chaos") { (_: Chaos) in }
            for _ in 0..<3 { try await chaos.defer(Chaos(milliseconds: 1)) }
            var environment = ProcessInfo.processInfo.environment
            environment["PROCRASTINATE_DATABASE_URL"] = try db.testURL
            let worker = try BackgroundProcess(
                "TestWorker", ["worker", "--metrics-port", "0", "--fetch-job-polling-interval", "0.1"], environment: environment
            )
            defer { worker.send(SIGKILL) }
            try await eventually("the worker to run the jobs", timeout: .seconds(60)) {
                try await app.jobManager.listJobs(JobFilter(status: .succeeded)).count == 3
            }
            let address = try #require(worker.errorOutput.firstMatch(of: /Metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/)?.output.1)
            let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: String(address))))
            let text = String(decoding: data, as: UTF8.self)
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
            #expect(text.contains("procrastinate_jobs_succeeded_total"), "\(text)")
            worker.send(SIGTERM)
            #expect(try await worker.exited() == 0, "\(worker.errorOutput)")
        }
    }
}
