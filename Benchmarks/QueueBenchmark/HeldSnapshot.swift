import Foundation
import PostgresNIO
import Procrastinate

// `held_snapshot`: a steady stream of jobs deferred and worked while another connection holds
// a REPEATABLE READ snapshot open, which keeps every row version the queue leaves behind
// (VACUUM cannot remove what that snapshot may still read). Our worker, then Python
// Procrastinate's, through the same workload.

extension QueueBenchmark {
    /// The phases of the workload, in seconds.
    struct HeldSnapshotPhases {
        var before: Int
        var hold: Int
        var after: Int

        /// Which phase second `t` (since the start) falls in.
        func phase(at t: Double) -> String {
            t < Double(before) ? "before" : t < Double(before + hold) ? "during" : "after"
        }
    }

    /// Whose worker works the jobs.
    enum Implementation: String, CaseIterable {
        case swift
        case python

        /// The claim its worker runs, for the probe.
        var claim: String {
            switch self {
            case .swift: "SELECT * FROM procrastinate_swift_fetch_jobs_v2(NULL, NULL, 10, NULL)"
            case .python: "SELECT * FROM procrastinate_fetch_job_v2(NULL, NULL)"
            }
        }
    }

    /// Both implementations in turn (Python when its interpreter is there: `BENCH_PYTHON`,
    /// else `.venv-reference/bin/python`).
    func heldSnapshot(rate: Int, phases: HeldSnapshotPhases) async throws -> [String: Any] {
        var report: [String: Any] = ["rate_jobs_per_s": rate, "phases_s": [phases.before, phases.hold, phases.after]]
        let only = ProcessInfo.processInfo.environment["BENCH_HELD_IMPLEMENTATIONS"].map { $0.split(separator: ",").map(String.init) }
        for implementation in Implementation.allCases where only?.contains(implementation.rawValue) ?? true {
            FileHandle.standardError.write(Data("  \(implementation.rawValue)…\n".utf8))
            if implementation == .python, !FileManager.default.isExecutableFile(atPath: pythonPath) {
                report["python"] = ["skipped": "no Python interpreter at \(pythonPath)"]
                continue
            }
            report[implementation.rawValue] = try await heldSnapshot(implementation, rate: rate, phases: phases)
        }
        let ok = Implementation.allCases.allSatisfy { (report[$0.rawValue] as? [String: Any])?["ok"] as? Bool ?? true }
        report["ok"] = ok
        return report
    }

    var pythonPath: String {
        ProcessInfo.processInfo.environment["BENCH_PYTHON"] ?? FileManager.default.currentDirectoryPath + "/.venv-reference/bin/python"
    }

    /// One implementation: `rate` no-op jobs a second deferred in batches of `rate / 100` every
    /// 10 ms, a worker of concurrency 10 on them, and after `phases.before` seconds a snapshot
    /// held for `phases.hold` seconds. Every second: jobs done, jobs waiting, dead row
    /// versions of the jobs table; every 20 ms: the worker's claim, timed on the server.
    func heldSnapshot(_ implementation: Implementation, rate: Int, phases: HeldSnapshotPhases) async throws -> [String: Any] {
        try await prepareInService()
        let start = ContinuousClock.now
        let end = start.advanced(by: .seconds(phases.before + phases.hold + phases.after))
        let stopWorker = try startWorker(implementation)
        let measured: (claims: [(at: Double, milliseconds: Double)], samples: [(at: Double, done: Int, waiting: Int, dead: Int)])
        do {
            async let deferring: Void = deferSteadily(rate: rate, until: end)
            async let claims = claimSamples(of: implementation.claim, since: start, until: end)
            async let samples = sampleEverySecond(since: start, until: end)
            try await Task.sleep(until: start.advanced(by: .seconds(phases.before)))
            try await connector.withConnection { connection in
                _ = try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ", logger: app.logger).collect()
                _ = try await connection.query("SELECT count(*) FROM procrastinate_jobs", logger: app.logger).collect()
                try await Task.sleep(for: .seconds(phases.hold))
                _ = try await connection.query("COMMIT", logger: app.logger).collect()
            }
            try await deferring
            measured = (try await claims, try await samples)
            try await stopWorker()
        } catch {
            try? await stopWorker()
            throw error
        }
        let (claims, samples) = measured

        // Per phase: the median of the per-second rates, the claim times, and the backlog and
        // dead row versions at its end.
        var byPhase: [String: Any] = [:]
        for phase in ["before", "during", "after"] {
            let inPhase = samples.filter { phases.phase(at: $0.at) == phase }
            let rates = zip(samples, samples.dropFirst()).filter { phases.phase(at: $0.1.at) == phase }.map { Double($0.1.done - $0.0.done) / ($0.1.at - $0.0.at) }
            let times = claims.filter { phases.phase(at: $0.at) == phase }.map(\.milliseconds).sorted()
            byPhase[phase] = [
                "jobs_per_s": percentile(rates, 50), "claim_p50_ms": percentile(times, 50), "claim_p99_ms": percentile(times, 99),
                "waiting_at_end": inPhase.last?.waiting ?? 0, "dead_tuples_at_end": inPhase.last?.dead ?? 0,
            ]
        }
        // Recovered: the first second after the hold from which the backlog stays within one
        // second of deferrals of what it was before.
        let released = Double(phases.before + phases.hold)
        let baseline = samples.filter { phases.phase(at: $0.at) == "before" }.map(\.waiting).max() ?? 0
        let after = samples.filter { $0.at >= released }
        let recovered = after.indices.first { index in after[index...].allSatisfy { $0.waiting <= baseline + rate } }.map { after[$0].at - released }
        let ratio = { (phase: String) in ((byPhase[phase] as? [String: Any])?["jobs_per_s"] as? Double) ?? 0 }
        return [
            "phases": byPhase, "during_to_before": ratio("during") / max(ratio("before"), 1),
            "recovered_after_s": recovered ?? -1, "ok": recovered != nil,
            "timeline": samples.map { ["t": ($0.at * 10).rounded() / 10, "done": $0.done, "waiting": $0.waiting, "dead": $0.dead] },
        ]
    }

    /// Starts the implementation's worker; returns how to stop it.
    func startWorker(_ implementation: Implementation) throws -> @Sendable () async throws -> Void {
        switch implementation {
        case .swift:
            let options = WorkerOptions(concurrency: 10, stalledJobRecoveryThreshold: nil, runsPeriodicDeferrer: false)
            let worker = Worker(app: app, options: options)
            let running = Task { try await worker.run() }
            return {
                worker.stop()
                try await running.value
            }
        case .python:
            let process = Process()
            process.executableURL = URL(fileURLWithPath: pythonPath)
            process.arguments = [FileManager.default.currentDirectoryPath + "/Benchmarks/Python/procrastinate_bench.py", "worker"]
            // It reads BENCH_DSN, as this process does.
            try process.run()
            // Stopped by SIGKILL once the measurement is over: Procrastinate's graceful stop
            // would first work off the backlog.
            return {
                kill(process.processIdentifier, SIGKILL)
                await Task.detached { process.waitUntilExit() }.value
            }
        }
    }

    /// Empty tables but for a history of 100,000 finished jobs, analysed: a queue in service,
    /// whose plans look rows up by index. On an empty table every session would keep the plans
    /// it made then (sequential scans: the foreign-key check of each event, for one) until
    /// autovacuum analyses the table, which is what a steady workload would measure instead.
    func prepareInService() async throws {
        try await prepare()
        try await sql(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, attempts) SELECT 'default', 'bench.noop', '{}', 'succeeded', 1 FROM generate_series(1, 100000)"
        )
        try await sql("VACUUM ANALYZE procrastinate_jobs")
        try await sql("SELECT pg_stat_reset()")
    }

    /// Defers `rate` no-op jobs a second until `end`: every 10 ms, the jobs due by then (more
    /// at once when a defer took longer, so that the rate holds).
    func deferSteadily(rate: Int, until end: ContinuousClock.Instant) async throws {
        let deferrer = try app.configureTask(name: "bench.noop")
        let start = ContinuousClock.now
        var deferred = 0
        while ContinuousClock.now < end {
            let due = Int(seconds(since: start) * Double(rate))
            if due > deferred {
                try await deferrer.batchDefer((deferred..<due).map { ["i": .int($0)] })
                deferred = due
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Every second until `end`: jobs done, jobs waiting, dead row versions of the jobs table
    /// (as the statistics collector last saw them).
    func sampleEverySecond(since start: ContinuousClock.Instant, until end: ContinuousClock.Instant) async throws -> [(at: Double, done: Int, waiting: Int, dead: Int)] {
        var samples: [(at: Double, done: Int, waiting: Int, dead: Int)] = []
        while ContinuousClock.now < end {
            let row = try await rows(
                """
                SELECT (SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded') - 100000,
                       (SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'),
                       (SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'procrastinate_jobs')
                """,
                as: (Int64, Int64, Int64).self
            )[0]
            samples.append((seconds(since: start), Int(row.0), Int(row.1), Int(row.2)))
            try await Task.sleep(for: .seconds(1))
        }
        return samples
    }
}
