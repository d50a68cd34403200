import Foundation
import PostgresNIO
import Procrastinate

// `soak`: a steady rate deferred and worked for minutes with retention on, to show whether
// tables, indexes and the claim's time level off.

extension QueueBenchmark {
    /// `rate` no-op jobs a second for `minutes`, worked by a worker of concurrency 10 that also
    /// runs the periodic scheduler, with `app.retain(succeeded: keep)` pruning every minute.
    /// Every minute: rows and waiting jobs, table and index sizes, dead row versions, claim
    /// times.
    func soak(rate: Int, minutes: Int, keep: Duration) async throws -> [String: Any] {
        try await prepareInService()
        try app.retain(succeeded: keep, cron: "* * * * *")
        let start = ContinuousClock.now
        let end = start.advanced(by: .seconds(minutes * 60))
        let worker = Worker(app: app, options: WorkerOptions(concurrency: 10, stalledJobRecoveryThreshold: nil))
        let running = Task { try await worker.run() }
        var minutesReport: [[String: Any]] = []
        do {
            async let deferring: Void = deferSteadily(rate: rate, until: end)
            async let claims = claimSamples(of: Implementation.swift.claim, since: start, until: end)
            for minute in 1...minutes {
                try await Task.sleep(until: start.advanced(by: .seconds(minute * 60)))
                let (rows, waiting, dead) = try await rows(
                    """
                    SELECT count(*), count(*) FILTER (WHERE status = 'todo'),
                           (SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'procrastinate_jobs')
                    FROM procrastinate_jobs
                    """,
                    as: (Int64, Int64, Int64).self
                )[0]
                minutesReport.append([
                    "minute": minute, "sizes_mb": try await sizes(), "jobs_rows": rows, "waiting": waiting, "dead_tuples": dead,
                ])
            }
            try await deferring
            let samples = try await claims
            for index in minutesReport.indices {
                let times = samples.filter { Int($0.at / 60) == index }.map(\.milliseconds).sorted()
                minutesReport[index]["claim_p50_ms"] = percentile(times, 50)
                minutesReport[index]["claim_p99_ms"] = percentile(times, 99)
            }
        } catch {
            worker.stop()
            try? await running.value
            throw error
        }
        worker.stop()
        try await running.value
        // Level: the jobs table's size at the end within 20 % of its size at a third of the run.
        let jobsSize = minutesReport.compactMap { ($0["sizes_mb"] as? [String: Double])?["jobs"] }
        let third = jobsSize.isEmpty ? 0 : jobsSize[jobsSize.count / 3]
        let level = jobsSize.last.map { third > 0 && $0 <= third * 1.2 } ?? false
        return ["rate_jobs_per_s": rate, "minutes": minutes, "keep_s": keep.components.seconds, "by_minute": minutesReport, "levels_off": level, "ok": level]
    }
}
