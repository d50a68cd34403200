import Foundation
import PostgresNIO
import Procrastinate
import Testing

/// One database, two languages: Python Procrastinate 3.10 and ours side by side, on a schema
/// applied by either.
@Suite struct InteropTests {
    struct Echo: Codable, Sendable, Equatable {
        var text: String
        var numbers: [Double]
        var flag: Bool
    }

    struct Locked: Codable, Sendable {
        var index: Int
    }

    struct Flaky: Codable, Sendable {
        var fail_in: String
    }

    /// A database set up by `schema`'s owner; on one set up by Python, our migrations are
    /// applied (as `procrastinate schema --migrate` does for a mixed fleet), which Swift workers
    /// need.
    func withSharedDatabase<Result: Sendable>(
        _ schema: SchemaSource, _ body: (PostgresConnector) async throws -> Result
    ) async throws -> Result {
        try await TestDatabase.withDatabase(schema) { db in
            if schema == .python { try await SchemaManager(connector: db).migrate() }
            return try await body(db)
        }
    }

    /// A Python worker on the test database, stopped (SIGTERM) by `stop`.
    struct PythonWorker {
        let process: BackgroundProcess

        init(_ db: PostgresConnector, concurrency: Int = 1) throws {
            process = try PythonReference.start("interop.py", [try db.testURL, "worker", "\(concurrency)"])
        }

        func stop() async throws {
            process.send(SIGTERM)
            #expect(try await process.exited() == 0, "\(process.errorOutput)")
        }

        func ran(_ prefix: String) -> [String] { process.lines.filter { $0.hasPrefix(prefix) } }
    }

    func python(_ db: PostgresConnector, _ arguments: [String]) async throws -> [String] {
        let process = try PythonReference.start("interop.py", [try db.testURL] + arguments)
        #expect(try await process.exited() == 0, "\(process.errorOutput)")
        return process.lines
    }

    @Test(arguments: SchemaSource.allCases)
    func pythonDefersSwiftRuns(schema: SchemaSource) async throws {
        try await withSharedDatabase(schema) { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let journal = Journal()
            _ = try app.task("sum") { (arguments: Sum, context: JobContext) in
                journal.record("\(context.job.id): \(arguments.a)+\(arguments.b)")
            }
            let before = Date()
            let ids = try await python(db, ["defer"]).compactMap(Int64.init)
            #expect(ids.count == 5)
            let job = try #require(try await app.jobManager.job(id: ids[3]))
            #expect(job.lock == "L" && job.queueingLock == "q" && job.priority == 9)
            #expect(try #require(try await app.jobManager.job(id: ids[4])?.scheduledAt) > before.addingTimeInterval(1.5))

            let worker = RunningWorker(Worker(app: app, options: .test()))
            try await eventually("every Python job to run, the scheduled one too") {
                try await app.jobManager.listJobs(JobFilter(status: .succeeded)).count == 5
            }
            try await worker.stop()
            #expect(Set(journal.labels) == ["\(ids[0]): 3+5", "\(ids[1]): 1+1", "\(ids[2]): 2+2", "\(ids[3]): 10+20", "\(ids[4]): 100+200"])
            // The highest priority ran first.
            #expect(journal.labels.first == "\(ids[3]): 10+20")
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func swiftDefersPythonRuns(schema: SchemaSource) async throws {
        try await withSharedDatabase(schema) { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let sum = try app.task("sum") { (_: Sum) in }
            let echo = try app.task("echo") { (_: Echo) in }
            let first = try await sum.defer(Sum(a: 3, b: 5))
            let second = try await echo.configure(priority: 2, lock: "L").defer(Echo(text: "it's \u{e9}", numbers: [1, 2.5], flag: true))
            let batch = try await sum.batchDefer([Sum(a: 1, b: 1), Sum(a: 2, b: 2)])

            let worker = try PythonWorker(db)
            try await eventually("Python to run every job") {
                try await app.jobManager.listJobs(JobFilter(status: .succeeded)).count == 4
            }
            try await worker.stop()
            let lines = Set(worker.ran("RAN"))
            #expect(lines == [
                #"RAN sum \#(first) {"a": 3, "b": 5}"#, #"RAN echo \#(second) {"flag": true, "numbers": [1, 2.5], "text": "it's \u00e9"}"#,
                #"RAN sum \#(batch[0]) {"a": 1, "b": 1}"#, #"RAN sum \#(batch[1]) {"a": 2, "b": 2}"#,
            ])
        }
    }

    @Test func aMixedFleetRunsEachJobOnceAndNeverOverlapsALock() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let journal = Journal()
            _ = try app.task("locked") { (_: Locked, context: JobContext) in
                let start = Date().timeIntervalSince1970
                await Task.yield()
                journal.record("RAN locked \(context.job.id) \(context.job.lock ?? "None") \(start) \(Date().timeIntervalSince1970)")
            }
            let count = 2000
            // Four locks and jobs without a lock, ids interleaving the keys.
            for start in stride(from: 0, to: count, by: 500) {
                try await db.execute(
                    """
                    SELECT procrastinate_defer_jobs_v1(ARRAY(
                        SELECT ROW('default', 'locked', 0, CASE WHEN i % 5 = 4 THEN NULL ELSE 'lock-' || (i % 5) END, NULL,
                                   jsonb_build_object('index', i), NULL)::procrastinate_job_to_defer_v1
                        FROM generate_series(\(start), \(start + 499)) AS i ORDER BY i))
                    """
                )
            }
            let python = try PythonWorker(db, concurrency: 4)
            let swift = RunningWorker(Worker(app: app, options: .test(concurrency: 4)))
            try await eventually("every job to succeed", timeout: .seconds(120)) {
                try await app.jobManager.listJobs(JobFilter(status: .succeeded)).count == count
            }
            try await swift.stop()
            try await python.stop()

            let runs = (python.ran("RAN locked") + journal.labels).map { $0.split(separator: " ") }
            #expect(runs.count == count, "each job once: \(runs.count) runs for \(count) jobs")
            #expect(Set(runs.map { $0[2] }).count == count)
            #expect(python.ran("RAN locked").count > 0 && journal.labels.count > 0, "both workers took jobs")
            for lock in ["lock-0", "lock-1", "lock-2", "lock-3"] {
                let intervals = runs.filter { $0[3] == lock }.map { (Double($0[4])!, Double($0[5])!) }.sorted { $0.0 < $1.0 }
                for (earlier, later) in zip(intervals, intervals.dropFirst()) {
                    #expect(earlier.1 <= later.0, "\(lock) runs overlap")
                }
            }
            let startedTwice = try await db.rows(
                "SELECT job_id FROM procrastinate_events WHERE type = 'started' GROUP BY job_id HAVING count(*) > 1", as: Int64.self
            )
            #expect(startedTwice.isEmpty)
            let events = try await db.rows(
                """
                SELECT job.lock, event.job_id, event.type::text FROM procrastinate_events AS event
                JOIN procrastinate_jobs AS job ON job.id = event.job_id
                WHERE event.type IN ('started', 'succeeded') AND job.lock IS NOT NULL ORDER BY event.id
                """,
                as: (String, Int64, String).self
            )
            for lock in ["lock-0", "lock-1", "lock-2", "lock-3"] {
                let sequence = events.filter { $0.0 == lock }
                let alternates = stride(from: 0, to: sequence.count - 1, by: 2).allSatisfy {
                    sequence[$0].2 == "started" && sequence[$0 + 1].2 == "succeeded" && sequence[$0].1 == sequence[$0 + 1].1
                }
                #expect(alternates && sequence.count == 2 * count / 5, "\(lock): events interleave")
            }
        }
    }

    @Test func abortFromPythonReachesASwiftJob() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let journal = Journal()
            let slow = try app.task("slow") { (_: NoArguments) in
                journal.record("started")
                try await Task.sleep(for: .seconds(600))
            }
            let id = try await slow.defer()
            let worker = RunningWorker(Worker(app: app, options: .test()))
            try await eventually("the job to start") { journal.count("started") == 1 }
            #expect(try await python(db, ["abort", "\(id)"]) == ["True"])
            try await eventually("the job to be aborted") { try await app.jobManager.status(of: id) == .aborted }
            try await worker.stop()
        }
    }

    @Test func abortFromSwiftReachesAPythonJob() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let id = try await app.configureTask(name: "slow").defer([:])
            let worker = try PythonWorker(db)
            try await eventually("Python to start the job") { worker.ran("STARTED slow \(id)").count == 1 }
            #expect(try await app.jobManager.cancel(id: id, abort: true))
            try await eventually("the job to be aborted") { try await app.jobManager.status(of: id) == .aborted }
            try await worker.stop()
        }
    }

    @Test func aJobFailingInSwiftIsRetriedByPython() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            // Retried much later, so that this one-shot worker stops before however slow it is;
            // the retry is then made due for Python.
            let flaky = try app.task("flaky", retry: RetryStrategy(maxAttempts: 3, wait: 3600)) { (_: Flaky) in
                throw InteropFailure()
            }
            let id = try await flaky.defer(Flaky(fail_in: "swift"))
            // Swift runs it once, fails, and puts it back for a retry.
            try await RunningWorker(Worker(app: app, options: .test(wait: false))).finished()
            let retried = try #require(try await app.jobManager.job(id: id))
            #expect(retried.status == .todo && retried.attempts == 1)
            try await db.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE id = \(id)")
            // Python runs the retry (and succeeds, since it is not the first attempt).
            let worker = try PythonWorker(db)
            try await eventually("Python to finish the job") { try await app.jobManager.status(of: id) == .succeeded }
            try await worker.stop()
            #expect(worker.ran("RAN flaky") == ["RAN flaky \(id) attempts=1"])
            #expect(try await app.jobManager.job(id: id)?.attempts == 2)
        }
    }

    @Test func aJobFailingInPythonIsRetriedBySwift() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let journal = Journal()
            let flaky = try app.task("flaky", retry: RetryStrategy(maxAttempts: 3)) { (_: Flaky, context: JobContext) in
                journal.record("attempts=\(context.job.attempts)")
            }
            let id = try await flaky.defer(Flaky(fail_in: "python"))
            // Python fails the first attempt and retries it an hour later, so that its one-shot
            // worker stops before however slow it is; the retry is then made due for Swift.
            #expect(try await python(db, ["worker-once"]) == ["RAN flaky \(id) attempts=0"])
            let retried = try #require(try await app.jobManager.job(id: id))
            #expect(retried.status == .todo && retried.attempts == 1)
            try await db.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE id = \(id)")
            let worker = RunningWorker(Worker(app: app, options: .test()))
            try await eventually("Swift to finish the job") { try await app.jobManager.status(of: id) == .succeeded }
            try await worker.stop()
            #expect(journal.labels == ["attempts=1"])
            let job = try #require(try await app.jobManager.job(id: id))
            #expect(job.status == .succeeded && job.attempts == 2)
        }
    }
}

struct InteropFailure: Error {}
