import Foundation
import PostgresNIO
import Procrastinate
import Synchronization

// The workloads of cost against the queue's shape: many lock keys, several worker processes,
// a backlog of a million. Worker processes are this executable again, in the child mode of
// `WorkerProcess`.

extension QueueBenchmark {
    /// `jobs` waiting locked jobs over `keys` lock keys plus 1 % unlocked ones, drained by one
    /// worker of concurrency 10, while a probe on its own connection times claims on the
    /// server (`EXPLAIN ANALYZE` of a claim of 10, rolled back) every 20 ms.
    func locksOverKeys(_ keys: Int, jobs: Int) async throws -> [String: Any] {
        let unlocked = jobs / 100
        let total = jobs + unlocked
        var report = try await locks(jobs: total) { i in i % 101 == 100 ? nil : "key-\(i % keys)" } during: {
            try await claimTimes()
        }
        report["keys"] = keys
        return report
    }

    /// Server times (ms) of claims of 10 until the task is cancelled, skipping the first (the
    /// session plans the claim then).
    func claimTimes() async throws -> [Double] {
        try await claimSamples(of: "SELECT * FROM procrastinate_swift_fetch_jobs_v2(NULL, NULL, 10, NULL)").map(\.milliseconds)
    }

    /// When (seconds since `start`) and how long (ms, on the server) each run of the claim
    /// `claim` took, every 20 ms until the task is cancelled or `end`: `EXPLAIN ANALYZE` in a
    /// transaction rolled back, on a connection of its own. The first run (which plans the
    /// claim) is left out.
    func claimSamples(
        of claim: String, since start: ContinuousClock.Instant = .now, until end: ContinuousClock.Instant? = nil
    ) async throws -> [(at: Double, milliseconds: Double)] {
        try await connector.withConnection { connection in
            var samples: [(at: Double, milliseconds: Double)] = []
            while !Task.isCancelled, end.map({ ContinuousClock.now < $0 }) ?? true {
                _ = try await connection.query(PostgresQuery(unsafeSQL: "BEGIN"), logger: app.logger).collect()
                var plan: [String] = []
                let explained = PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) \(claim)")
                for try await line in try await connection.query(explained, logger: app.logger).decode(String.self) {
                    plan.append(line)
                }
                _ = try await connection.query(PostgresQuery(unsafeSQL: "ROLLBACK"), logger: app.logger).collect()
                if let text = plan.first, let data = text.data(using: .utf8),
                    let list = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]],
                    let milliseconds = list.first?["Execution Time"] as? Double
                {
                    samples.append((seconds(since: start), milliseconds))
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return Array(samples.dropFirst())
        }
    }

    /// Seconds from `start` to now.
    func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// `processes` worker processes of concurrency 10 draining `jobs` no-op jobs: total jobs/s
    /// (from the first launch to the last exit) and each worker's share.
    func workerProcesses(_ processes: Int, jobs: Int) async throws -> [String: Any] {
        try await prepare(jobs: jobs)
        var finished: [WorkerProcess.Result] = []
        let time = try await timed { finished = try await WorkerProcess.run(count: processes) }
        let done = try await succeeded()
        var report = result(jobs: jobs, time, ok: done == jobs && finished.map(\.jobs).reduce(0, +) == jobs)
        let shares = finished.map { Double($0.jobs) / Double(max(jobs, 1)) }
        report["processes"] = processes
        report["jobs_per_worker"] = finished.map(\.jobs)
        report["min_share"] = shares.min() ?? 0
        report["max_share"] = shares.max() ?? 0
        return report
    }

    /// A million jobs (`BENCH_BURN_DOWN`) deferred in batches of 1,000, then drained by 1, 2
    /// and 4 worker processes in turn: jobs/s per 10-second window, the workers' peak RSS,
    /// and the sizes of the tables and indexes before and after each drain.
    func burnDown(jobs: Int, window: Duration = .seconds(10)) async throws -> [String: Any] {
        var drains: [[String: Any]] = []
        for processes in [1, 2, 4] {
            try await prepare()
            let deferrer = try app.configureTask(name: "bench.noop")
            let deferring = try await timed {
                for start in stride(from: 0, to: jobs, by: 1000) {
                    try await deferrer.batchDefer((start..<min(start + 1000, jobs)).map { ["i": .int($0)] })
                }
            }
            try await sql("ANALYZE procrastinate_jobs")
            let before = try await sizes()
            var finished: [WorkerProcess.Result] = []
            var rates: [Double] = []
            let time = try await timed {
                let sampler = Task {
                    var rates: [Double] = []
                    var last = 0
                    while !Task.isCancelled {
                        try? await Task.sleep(for: window)
                        guard !Task.isCancelled, let done = try? await succeeded() else { continue }
                        rates.append(Double(done - last) / Double(window.components.seconds))
                        last = done
                    }
                    return rates
                }
                finished = try await WorkerProcess.run(count: processes)
                sampler.cancel()
                rates = await sampler.value
            }
            let done = try await succeeded()
            var drain = result(jobs: jobs, time, ok: done == jobs)
            drain["processes"] = processes
            drain["defer_jobs_per_s"] = Double(jobs) / deferring.seconds
            drain["window_jobs_per_s"] = rates
            // The last full window against the first: flat means within 20 %.
            drain["last_to_first_window"] = rates.count >= 2 ? rates[rates.count - 2] / max(rates[0], 1) : 1
            drain["worker_peak_rss_mb"] = finished.map { Double($0.peakRSSKilobytes) / 1024 }
            drain["sizes_before_mb"] = before
            drain["sizes_after_mb"] = try await sizes()
            drains.append(drain)
        }
        return ["drains": drains, "ok": drains.allSatisfy { $0["ok"] as? Bool ?? false }]
    }

    /// The sizes (MB) of the jobs and events tables, each with its indexes, and of the jobs'
    /// indexes alone.
    func sizes() async throws -> [String: Double] {
        let row = try await rows(
            """
            SELECT pg_total_relation_size('procrastinate_jobs'), pg_indexes_size('procrastinate_jobs'),
                   pg_total_relation_size('procrastinate_events'), pg_total_relation_size('procrastinate_swift_lock_heads')
            """,
            as: (Int64, Int64, Int64, Int64).self
        )[0]
        let megabytes = { (bytes: Int64) in (Double(bytes) / 1_048_576 * 10).rounded() / 10 }
        return ["jobs": megabytes(row.0), "jobs_indexes": megabytes(row.1), "events": megabytes(row.2), "lock_heads": megabytes(row.3)]
    }
}

/// A worker process of the scale workloads: this executable with `BENCH_CHILD=worker` runs a
/// worker of concurrency 10 until the queue is empty, then prints how many jobs it ran and its
/// peak resident memory.
enum WorkerProcess {
    struct Result: Decodable {
        var jobs: Int
        var peakRSSKilobytes: Int
    }

    /// Whether this process is a child worker.
    static var isChild: Bool { ProcessInfo.processInfo.environment["BENCH_CHILD"] == "worker" }

    /// The child's life: drain, report, exit.
    static func main(app: App, ran: Recorder) async throws {
        let options = WorkerOptions(concurrency: 10, wait: false, stalledJobRecoveryThreshold: nil, runsPeriodicDeferrer: false)
        try await Worker(app: app, options: options).run()
        let report: [String: Int] = ["jobs": ran.finished.withLock { $0 }, "peakRSSKilobytes": resourceUsage().ru_maxrss]
        print(String(decoding: try JSONSerialization.data(withJSONObject: report), as: UTF8.self))
    }

    /// Launches `count` children at once and waits for all of them.
    static func run(count: Int) async throws -> [Result] {
        var environment = ProcessInfo.processInfo.environment
        environment["BENCH_CHILD"] = "worker"
        let launched = try (0..<count).map { _ in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            return (process, output)
        }
        var results: [Result] = []
        for (process, output) in launched {
            let data = await Task.detached { output.fileHandleForReading.readDataToEndOfFile() }.value
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw ChildFailed(status: process.terminationStatus) }
            results.append(try JSONDecoder().decode(Result.self, from: data))
        }
        return results
    }

    struct ChildFailed: Error, CustomStringConvertible {
        var status: Int32
        var description: String { "a worker process exited with status \(status)" }
    }
}
