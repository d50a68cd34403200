// The queue benchmark of `Benchmarks/workloads.md`: defer, work, NOTIFY latency and locks,
// plus our own `locks_backlog`, `work_c100` and `limits_*`, and raw SQL references. Prints one
// JSON report.
//
//   BENCH_DSN=postgresql://… [BENCH_N=10000] [BENCH_RUNS=3] [BENCH_ONLY=work_c10,locks_] swift run -c release QueueBenchmark
import Foundation
import Logging
import PostgresNIO
import Procrastinate
import Synchronization

struct Index: Codable, Sendable { var i: Int }
struct Probe: Codable, Sendable { var k: Int }

/// What the tasks of a workload record.
final class Recorder: Sendable {
    struct Run: Sendable {
        var lock: String
        var id: Int64
        var start: ContinuousClock.Instant
        var end: ContinuousClock.Instant
    }

    let runs = Mutex<[Run]>([])
    let probes = Probes()
    let finished = Mutex(0)
}

@main
struct QueueBenchmark {
    let connector: PostgresConnector
    let app: App
    let n: Int
    let recorder = Recorder()

    static func main() async throws {
        let environment = ProcessInfo.processInfo.environment
        let settings = try ConnectionSettings.resolve(url: environment["BENCH_DSN"])
        let n = Int(environment["BENCH_N"] ?? "") ?? 10_000
        let runs = Int(environment["BENCH_RUNS"] ?? "") ?? 1
        let only = environment["BENCH_ONLY"]
        let backlog = Int(environment["BENCH_BACKLOG"] ?? "") ?? 100_000
        let burnDownJobs = Int(environment["BENCH_BURN_DOWN"] ?? "") ?? 1_000_000
        let heldRate = Int(environment["BENCH_HELD_RATE"] ?? "") ?? 1000
        let heldSeconds = Int(environment["BENCH_HELD_SECONDS"] ?? "") ?? 60
        let soakMinutes = Int(environment["BENCH_SOAK_MINUTES"] ?? "") ?? 30
        var logger = Logger(label: "bench") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .error
        let connector = PostgresConnector(settings: settings, logger: logger)
        let app = App(connector: connector, logger: logger)
        if WorkerProcess.isChild {
            let ran = Recorder()
            _ = try app.task("bench.noop") { (_: Index) in ran.finished.withLock { $0 += 1 } }
            try await connector.run { _ in try await WorkerProcess.main(app: app, ran: ran) }
            return
        }
        let benchmark = QueueBenchmark(connector: connector, app: app, n: n)
        try benchmark.registerTasks()
        try await connector.run { _ in try await benchmark.report(
                runs: runs, backlog: backlog, burnDownJobs: burnDownJobs, heldRate: heldRate, heldSeconds: heldSeconds,
                soakMinutes: soakMinutes, only: only
            ) }
    }

    func registerTasks() throws {
        let recorder = self.recorder
        _ = try app.task("bench.noop") { (_: Index) in }
        _ = try app.task("bench.ping") { (probe: Probe) in
            recorder.probes.arrived(probe.k)
        }
        _ = try app.task("bench.locked") { (_: Index, context: JobContext) in
            let start = ContinuousClock.now
            await Task.yield()
            let run = Recorder.Run(lock: context.job.lock ?? "", id: context.job.id, start: start, end: .now)
            recorder.runs.withLock { $0.append(run) }
        }
        _ = try app.task("bench.sleep") { (_: Index) in
            try await Task.sleep(for: .milliseconds(10))
            recorder.finished.withLock { $0 += 1 }
        }
    }

    // MARK: Report

    func report(
        runs: Int, backlog: Int, burnDownJobs: Int, heldRate: Int, heldSeconds: Int, soakMinutes: Int, only: String?
    ) async throws {
        let started = Date()
        var results: [String: [[String: Any]]] = [:]
        let keyed = try registerKeyedTask()
        let bound = try registerBoundTask()
        let workloads: [(String, () async throws -> [String: Any])] = [
            ("raw_insert_sequential", { try await rawInsert(batch: 1) }),
            ("raw_insert_batch_100", { try await rawInsert(batch: 100) }),
            ("raw_cycle_batch_100", { try await rawCycle() }),
            ("raw_round_trip_pooled", { try await rawRoundTrips(pooled: true) }),
            ("raw_round_trip_one_connection", { try await rawRoundTrips(pooled: false) }),
            ("connector_round_trip", { try await connectorRoundTrips() }),
            ("defer_sequential", { try await deferJobs(batch: 1) }),
            ("defer_batch_100", { try await deferJobs(batch: 100) }),
            ("defer_batch_1000", { try await deferJobs(batch: 1000) }),
            ("work_c1_listen_on", { try await work(concurrency: 1, listen: true) }),
            ("work_c10_listen_on", { try await work(concurrency: 10, listen: true) }),
            ("work_c1_listen_off", { try await work(concurrency: 1, listen: false) }),
            ("work_c10_listen_off", { try await work(concurrency: 10, listen: false) }),
            ("latency_listen", { try await latency() }),
            ("locks_c10_k10", { try await locks(jobs: n) { "lock-\($0 % 10)" } }),
            ("locks_backlog", { try await locks(jobs: backlog) { "lock-\($0 % 10)" } }),
            ("locks_backlog_without_locks", { try await locks(jobs: backlog) { _ in nil } }),
            ("locks_keys_10", { try await locksOverKeys(10, jobs: backlog) }),
            ("locks_keys_1000", { try await locksOverKeys(1000, jobs: backlog) }),
            ("locks_keys_10000", { try await locksOverKeys(10000, jobs: backlog) }),
            ("locks_keys_100000", { try await locksOverKeys(100_000, jobs: backlog) }),
            ("workers_1", { try await workerProcesses(1, jobs: backlog) }),
            ("workers_2", { try await workerProcesses(2, jobs: backlog) }),
            ("workers_4", { try await workerProcesses(4, jobs: backlog) }),
            ("workers_8", { try await workerProcesses(8, jobs: backlog) }),
            ("work_c100", { try await sleepers() }),
            ("limits_none", { try await limitedWork(queueLimit: nil) }),
            ("limits_queue_unbound", { try await limitedWork(queueLimit: Limit(concurrency: 1000)) }),
            ("limits_keys_10_n2", { try await limitKeys(10, task: keyed) }),
            ("limits_keys_1000_n2", { try await limitKeys(1000, task: keyed) }),
            ("limits_bind_task_c3", { try await bindingLimit(Limit(concurrency: 3), jobs: 150, milliseconds: 40, ideal: 3 / 0.040, task: bound) }),
            ("limits_bind_rate_20", { try await bindingLimit(Limit(rate: Limit.Rate(20, per: .seconds(1))), jobs: 220, milliseconds: 0, ideal: 20, task: bound) }),
            ("limits_bind_rate_500", { try await bindingLimit(Limit(rate: Limit.Rate(500, per: .seconds(1))), jobs: 3000, milliseconds: 0, ideal: 500, task: bound) }),
            ("limits_bind_keys_10_c2", { try await bindingLimit(nil, keys: 10, jobs: 1000, milliseconds: 20, ideal: 10 * 2 / 0.020, task: bound) }),
            ("work_c1_no_database", { try await workWithoutDatabase(concurrency: 1) }),
            ("work_c10_no_database", { try await workWithoutDatabase(concurrency: 10) }),
            // Minutes long: only when asked for by name.
            ("burn_down_1m", { try await burnDown(jobs: burnDownJobs) }),
            ("held_snapshot", { try await heldSnapshot(rate: heldRate, phases: HeldSnapshotPhases(before: 20, hold: heldSeconds, after: 30)) }),
            ("soak", { try await soak(rate: heldRate, minutes: soakMinutes, keep: .seconds(120)) }),
        ]
        let onlyByName: Set = ["burn_down_1m", "held_snapshot", "soak"]
        // Rounds interleave the workloads, as the Python script does.
        for _ in 0..<runs {
            for (name, workload) in workloads where only.map({ $0.split(separator: ",").contains { name.hasPrefix($0) } }) ?? !onlyByName.contains(name) {
                FileHandle.standardError.write(Data("\(name)…\n".utf8))
                results[name, default: []].append(try await workload())
            }
        }

        func median(_ name: String, _ key: String) -> Double {
            let values = (results[name] ?? []).compactMap { $0[key] as? Double }.sorted()
            return values.isEmpty ? 0 : values[values.count / 2]
        }
        var summary: [String: Any] = [:]
        for name in ["defer_sequential", "defer_batch_100", "defer_batch_1000", "work_c1_listen_on", "work_c10_listen_on",
                     "work_c1_listen_off", "work_c10_listen_off", "locks_c10_k10", "locks_backlog", "locks_backlog_without_locks", "work_c100", "work_c1_no_database", "work_c10_no_database",
                     "raw_insert_sequential", "raw_insert_batch_100", "raw_cycle_batch_100",
                     "locks_keys_10", "locks_keys_1000", "locks_keys_10000", "locks_keys_100000", "workers_1", "workers_2", "workers_4", "workers_8",
                     "limits_none", "limits_queue_unbound", "limits_keys_10_n2", "limits_keys_1000_n2"] {
            summary["\(name)_jobs_per_s"] = median(name, "jobs_per_s")
        }
        for keys in ["10", "1000", "10000", "100000"] {
            summary["locks_keys_\(keys)_claim_p50_ms"] = median("locks_keys_\(keys)", "claim_p50_ms")
            summary["locks_keys_\(keys)_claim_p99_ms"] = median("locks_keys_\(keys)", "claim_p99_ms")
        }
        let unlimited = median("limits_none", "jobs_per_s")
        summary["limits_queue_unbound_ratio"] = unlimited > 0 ? median("limits_queue_unbound", "jobs_per_s") / unlimited : 0
        for name in ["limits_bind_task_c3", "limits_bind_rate_20", "limits_bind_rate_500", "limits_bind_keys_10_c2"] {
            summary["\(name)_jobs_per_s"] = median(name, "jobs_per_s")
            summary["\(name)_of_ideal"] = median(name, "of_ideal")
        }
        summary["limits_keys_max_running_per_key"] = ["limits_keys_10_n2", "limits_keys_1000_n2"]
            .flatMap { results[$0] ?? [] }.compactMap { $0["max_running_per_key"] as? Int }.max() ?? 0
        summary["latency_p50_ms"] = median("latency_listen", "p50_ms")
        summary["latency_p99_ms"] = median("latency_listen", "p99_ms")
        let overlaps = results.filter { $0.key.hasPrefix("locks_") }.values.joined()
        summary["locks_overlaps"] = overlaps.map { ($0["client_overlaps"] as? Int ?? 0) + ($0["db_order_violations"] as? Int ?? 0) }.max() ?? 0
        summary["all_ok"] = results.values.joined().allSatisfy { $0["ok"] as? Bool ?? true }

        var detailed: [String: Any] = [:]
        for (name, list) in results {
            let rates = list.compactMap { $0["jobs_per_s"] as? Double }
            detailed[name] = [
                "runs": list,
                "metrics": rates.isEmpty ? [:] : ["jobs_per_s": ["median": median(name, "jobs_per_s"), "min": rates.min()!, "max": rates.max()!, "runs": rates]],
            ]
        }
        let server = try await serverSettings()
        let report: [String: Any] = [
            "schema": "queue-bench/1",
            "implementation": "swift-procrastinate",
            "implementation_version": "0.2.0",
            "client": ["language": "swift 6", "driver": "PostgresNIO", "event_loop": "SwiftNIO MultiThreadedEventLoopGroup"],
            "server": server,
            "params": [
                "n": n, "runs": runs, "latency_jobs": 200, "latency_gap_ms": 20.0, "lock_keys": 10, "lock_concurrency": 10,
                "lock_task_sleep_ms": 0.0, "lock_polling_interval_s": 0.1, "percentile_method": "nearest-rank", "backlog": backlog,
            ],
            "started_at": ISO8601DateFormatter().string(from: started),
            "finished_at": ISO8601DateFormatter().string(from: Date()),
            "summary": summary,
            "results": detailed,
        ]
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }

    // MARK: Helpers

    func rows<each T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as types: (repeat each T).Type) async throws -> [(repeat each T)] {
        try await connector.withConnection { connection in
            var rows: [(repeat each T)] = []
            for try await row in try await connection.query(query, logger: app.logger).decode(types) {
                rows.append(row)
            }
            return rows
        }
    }

    func sql(_ query: PostgresQuery) async throws {
        _ = try await connector.withConnection { connection in
            try await connection.query(query, logger: app.logger).collect().count
        }
    }

    func serverSettings() async throws -> [String: String] {
        try await connector.withConnection { connection in
            var settings: [String: String] = [:]
            for name in ["server_version", "synchronous_commit", "fsync"] {
                for try await value in try await connection.query(PostgresQuery(unsafeSQL: "SHOW \(name)"), logger: app.logger).decode(String.self) {
                    settings[name] = value
                }
            }
            return settings
        }
    }

    /// Empty tables, then `jobs` pre-inserted in batches of 1000, analysed and checkpointed.
    func prepare(jobs: Int = 0, task: String = "bench.noop", lock: ((Int) -> String?)? = nil) async throws {
        try await sql(
            """
            TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers, procrastinate_workers,
                procrastinate_swift_limits, procrastinate_swift_limit_keys, procrastinate_swift_paused_queues RESTART IDENTITY CASCADE
            """
        )
        for start in stride(from: 0, to: jobs, by: 1000) {
            let batch = (start..<min(start + 1000, jobs)).map { i in
                NewJob(queue: "default", taskName: task, lock: lock?(i), arguments: #"{"i": \#(i)}"#)
            }
            _ = try await connector.deferJobs(batch)
        }
        try await sql("ANALYZE procrastinate_jobs")
        try await sql("CHECKPOINT")
        recorder.runs.withLock { $0 = [] }
        recorder.finished.withLock { $0 = 0 }
    }

    /// How long `body` took, the host's CPU use meanwhile (all cores, percent) and this
    /// process's CPU time (user and system, seconds).
    func timed(_ body: () async throws -> Void) async throws -> Timing {
        let cpuBefore = cpuTimes()
        let ownBefore = ownCPUSeconds()
        let clock = ContinuousClock()
        let elapsed = try await clock.measure { try await body() }
        let cpuAfter = cpuTimes()
        let busy = (cpuAfter.busy - cpuBefore.busy) / max(1, cpuAfter.total - cpuBefore.total) * 100
        return Timing(seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, hostBusyPercent: busy, ownCPUSeconds: ownCPUSeconds() - ownBefore)
    }

    struct Timing {
        var seconds: Double
        var hostBusyPercent: Double
        var ownCPUSeconds: Double
    }

    /// Busy and total jiffies of the host (all cores), from /proc/stat.
    func cpuTimes() -> (busy: Double, total: Double) {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8), let line = text.split(separator: "\n").first else {
            return (0, 0)
        }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 5 else { return (0, 0) }
        let total = values.reduce(0, +)
        return (total - values[3] - values[4], total)
    }

    /// User and system CPU time of this process so far.
    func ownCPUSeconds() -> Double {
        let usage = resourceUsage()
        let seconds = { (time: timeval) in Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// One run's figures; `client_cpu_us_per_job` is the benchmark process's CPU time (the
    /// worker's, mostly) per job.
    func result(jobs: Int, _ time: Timing, ok: Bool = true) -> [String: Any] {
        [
            "jobs": jobs, "seconds": time.seconds, "jobs_per_s": Double(jobs) / time.seconds, "host_cpu_busy_pct": time.hostBusyPercent,
            "client_cpu_us_per_job": time.ownCPUSeconds / Double(max(jobs, 1)) * 1e6, "ok": ok,
        ]
    }

    func succeeded() async throws -> Int {
        try await connector.countJobs(by: .queue, JobFilter(status: .succeeded)).map(\.total).reduce(0, +)
    }

    // MARK: Workloads

    func rawInsert(batch: Int) async throws -> [String: Any] {
        try await prepare()
        let time = try await timed {
            for start in stride(from: 0, to: n, by: batch) {
                try await sql(
                    "INSERT INTO procrastinate_jobs (queue_name, task_name, args) SELECT 'default', 'bench.noop', jsonb_build_object('i', i) FROM generate_series(\(start), \(min(start + batch, n) - 1)) AS i"
                )
            }
        }
        return result(jobs: n, time)
    }

    /// The floor of the tables: batches of 100 inserted, claimed and finished with plain SQL.
    func rawCycle() async throws -> [String: Any] {
        try await prepare(jobs: n)
        let time = try await timed {
            while true {
                let ids = try await rows(
                    "UPDATE procrastinate_jobs SET status = 'doing' WHERE id IN (SELECT id FROM procrastinate_jobs WHERE status = 'todo' ORDER BY priority DESC, id LIMIT 100 FOR UPDATE SKIP LOCKED) RETURNING id",
                    as: Int64.self
                )
                if ids.isEmpty { break }
                try await sql("UPDATE procrastinate_jobs SET status = 'succeeded', attempts = attempts + 1 WHERE id = ANY(\(ids))")
            }
        }
        let done = try await succeeded()
        return result(jobs: n, time, ok: done == n)
    }

    /// The driver's own cost: `n` round trips of `SELECT 1`, each on a connection leased from
    /// the pool (as the connector's operations are), or all on one; "jobs" are round trips.
    func rawRoundTrips(pooled: Bool) async throws -> [String: Any] {
        let time = try await timed {
            if pooled {
                for _ in 0..<n { try await sql("SELECT 1") }
            } else {
                try await connector.withConnection { connection in
                    for _ in 0..<n { _ = try await connection.query("SELECT 1", logger: app.logger).collect() }
                }
            }
        }
        return result(jobs: n, time)
    }

    /// The connector's own cost per operation (a pooled connection, the operation's time
    /// bound, one round trip): `n` reads of when the next scheduled job is due.
    func connectorRoundTrips() async throws -> [String: Any] {
        try await prepare()
        let time = try await timed {
            for _ in 0..<n { _ = try await connector.nextScheduledJob(queues: nil, taskNames: nil, scheduledAfter: Date()) }
        }
        return result(jobs: n, time)
    }

    func deferJobs(batch: Int) async throws -> [String: Any] {
        try await prepare()
        let deferrer = try app.configureTask(name: "bench.noop")
        let time = try await timed {
            for start in stride(from: 0, to: n, by: batch) {
                let arguments: [[String: JSONValue]] = (start..<min(start + batch, n)).map { ["i": .int($0)] }
                if batch == 1 {
                    try await deferrer.defer(arguments[0])
                } else {
                    try await deferrer.batchDefer(arguments)
                }
            }
        }
        return result(jobs: n, time)
    }

    func work(concurrency: Int, listen: Bool) async throws -> [String: Any] {
        try await prepare(jobs: n)
        let options = WorkerOptions(concurrency: concurrency, wait: false, listenNotify: listen, stalledJobRecoveryThreshold: nil, runsPeriodicDeferrer: false)
        let time = try await timed { try await Worker(app: app, options: options).run() }
        let done = try await succeeded()
        return result(jobs: n, time, ok: done == n)
    }

    /// The worker's own cost: no-op jobs from a connector that costs nothing, no database.
    func workWithoutDatabase(concurrency: Int) async throws -> [String: Any] {
        let stub = StubConnector(jobs: n, taskName: "bench.noop")
        let app = App(connector: stub, logger: app.logger)
        _ = try app.task("bench.noop") { (_: Index) in }
        let options = WorkerOptions(concurrency: concurrency, wait: false, stalledJobRecoveryThreshold: nil, runsPeriodicDeferrer: false)
        let time = try await timed { try await Worker(app: app, options: options).run() }
        return result(jobs: n, time, ok: stub.succeeded == n)
    }

    func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    /// The `p`th percentile of `values`, by nearest rank, as the benchmark contract says.
    func percentile(_ values: [Double], _ p: Double) -> Double {
        values.isEmpty ? 0 : values.sorted()[max(0, Int((p / 100 * Double(values.count)).rounded(.up)) - 1)]
    }

    func latency() async throws -> [String: Any] {
        try await prepare()
        let worker = Worker(app: app, options: WorkerOptions(fetchJobPollingInterval: .seconds(5), stalledJobRecoveryThreshold: nil, runsPeriodicDeferrer: false))
        let running = Task { try await worker.run() }
        while !worker.isListening { try await Task.sleep(for: .milliseconds(5)) }
        let ping = try app.configureTask(name: "bench.ping")
        var latencies: [Double] = []
        var deferring: [Double] = []
        var afterDefer: [Double] = []
        var timeouts = 0
        for k in 0..<200 {
            let start = ContinuousClock.now
            try await ping.defer(["k": .int(k)])
            let deferred = ContinuousClock.now
            deferring.append(milliseconds(deferred - start))
            if let arrived = await recorder.probes.arrival(of: k, within: .seconds(10)) {
                latencies.append(milliseconds(arrived - start))
                afterDefer.append(milliseconds(arrived - deferred))
            } else {
                timeouts += 1
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        worker.stop()
        try await running.value
        let sorted = latencies.sorted()
        return [
            "p50_ms": percentile(sorted, 50), "p90_ms": percentile(sorted, 90), "p99_ms": percentile(sorted, 99), "max_ms": sorted.last ?? 0,
            // How much of the latency is the defer's own durable commit, and how much the worker's.
            "defer_p50_ms": percentile(deferring, 50), "defer_p99_ms": percentile(deferring, 99),
            "after_defer_p50_ms": percentile(afterDefer, 50), "after_defer_p99_ms": percentile(afterDefer, 99),
            "mean_ms": sorted.isEmpty ? 0 : sorted.reduce(0, +) / Double(sorted.count), "timeouts": timeouts, "ok": timeouts == 0,
        ]
    }

    /// `jobs` jobs with the locks `lock` gives (none: the reference without locks) drained by a
    /// worker of concurrency 10, while `probe` runs (its figures: claim times in ms); checks
    /// the lock order.
    func locks(jobs: Int, lock: @escaping (Int) -> String?, during probe: (@Sendable () async throws -> [Double])? = nil) async throws -> [String: Any] {
        try await prepare(jobs: jobs, task: "bench.locked", lock: lock)
        let options = WorkerOptions(
            concurrency: 10, fetchJobPollingInterval: .milliseconds(100), stalledJobRecoveryThreshold: nil, runsPeriodicDeferrer: false
        )
        let worker = Worker(app: app, options: options)
        let recorder = self.recorder
        let probing = probe.map { probe in Task { try await probe() } }
        let time = try await timed {
            let running = Task { try await worker.run() }
            while recorder.runs.withLock({ $0.count }) < jobs { try await Task.sleep(for: .milliseconds(2)) }
            worker.stop()
            try await running.value
        }
        probing?.cancel()
        let claimTimes = try await probing?.value.sorted() ?? []
        let done = try await succeeded()
        var report = result(jobs: jobs, time, ok: done == jobs)
        if !claimTimes.isEmpty {
            report["claim_p50_ms"] = percentile(claimTimes, 50)
            report["claim_p99_ms"] = percentile(claimTimes, 99)
            report["claim_samples"] = claimTimes.count
        }
        guard lock(0) != nil else { return report }
        // (a) No two bodies of one lock overlap.
        var overlaps = 0
        let byLock = Dictionary(grouping: recorder.runs.withLock { $0 }, by: \.lock)
        for runs in byLock.values {
            let sorted = runs.sorted { $0.start < $1.start }
            overlaps += zip(sorted, sorted.dropFirst()).filter { $0.end > $1.start }.count
        }
        // (b) In the events, per lock, started and succeeded alternate for the same job.
        let events = try await rows(
            """
            SELECT job.lock, event.job_id, event.type::text FROM procrastinate_events AS event
            JOIN procrastinate_jobs AS job ON job.id = event.job_id
            WHERE event.type IN ('started', 'succeeded') AND job.lock IS NOT NULL ORDER BY event.id
            """,
            as: (String, Int64, String).self
        )
        var violations = 0
        for lock in Set(events.map(\.0)) {
            let sequence = events.filter { $0.0 == lock }
            for index in stride(from: 0, to: sequence.count - 1, by: 2)
            where !(sequence[index].2 == "started" && sequence[index + 1].2 == "succeeded" && sequence[index].1 == sequence[index + 1].1) {
                violations += 1
            }
        }
        report["ok"] = overlaps == 0 && violations == 0 && done == jobs
        report["client_overlaps"] = overlaps
        report["db_order_violations"] = violations
        return report
    }

    func sleepers() async throws -> [String: Any] {
        let jobs = min(n, 5000)
        try await prepare(jobs: jobs, task: "bench.sleep")
        let options = WorkerOptions(concurrency: 100, wait: false, stalledJobRecoveryThreshold: nil, runsPeriodicDeferrer: false)
        let time = try await timed { try await Worker(app: app, options: options).run() }
        let done = try await succeeded()
        return result(jobs: jobs, time, ok: done == jobs)
    }
}

/// This process's resource usage so far.
func resourceUsage() -> rusage {
    var usage = rusage()
    #if canImport(Darwin)
    getrusage(RUSAGE_SELF, &usage)
    #else
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #endif
    return usage
}
