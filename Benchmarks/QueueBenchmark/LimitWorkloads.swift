import Foundation
import PostgresNIO
import Procrastinate
import Synchronization

// The workloads of limits: what a limit costs the claim. One worker of concurrency 10 drains
// `n` no-op jobs, without limits, under a queue limit that never binds, and over limit keys of
// concurrency 2.

/// The arguments of `bench.keyed`: its limit key is `key`.
struct Keyed: Codable, Sendable {
    var i: Int
    var key: String
}

extension QueueBenchmark {
    /// The task of the key workloads: each run recorded with its key, for the check.
    func registerKeyedTask() throws -> TaskHandle<Keyed> {
        let recorder = self.recorder
        return try app.task("bench.keyed", keyLimit: Limit(concurrency: 2), limitKey: { (job: Keyed) in job.key }) {
            (job: Keyed, context: JobContext) in
            let start = ContinuousClock.now
            await Task.yield()
            recorder.runs.withLock { $0.append(Recorder.Run(lock: job.key, id: context.job.id, start: start, end: .now)) }
        }
    }

    /// `n` no-op jobs drained by one worker of concurrency 10, LISTEN on, with `queueLimit` on
    /// their queue (nil: none).
    func limitedWork(queueLimit: Limit?) async throws -> [String: Any] {
        try await prepare(jobs: n)
        if let queueLimit {
            try await app.jobManager.setLimit(queueLimit, for: .queue("default"))
        }
        let options = WorkerOptions(concurrency: 10, wait: false, stalledJobRecoveryThreshold: nil, runsPeriodicDeferrer: false)
        let time = try await timed { try await Worker(app: app, options: options).run() }
        return result(jobs: n, time, ok: try await succeeded() == n)
    }

    /// `n` jobs over `keys` limit keys of concurrency 2 (deferred in batches of 1000), drained
    /// by one worker of concurrency 10; checks from the bodies that no key ran 3 at once.
    func limitKeys(_ keys: Int, task: TaskHandle<Keyed>) async throws -> [String: Any] {
        try await prepare()
        for start in stride(from: 0, to: n, by: 1000) {
            _ = try await task.batchDefer((start..<min(start + 1000, n)).map { Keyed(i: $0, key: "key-\($0 % keys)") })
        }
        try await sql("ANALYZE procrastinate_jobs")
        try await sql("CHECKPOINT")
        let options = WorkerOptions(concurrency: 10, wait: false, stalledJobRecoveryThreshold: nil, runsPeriodicDeferrer: false)
        let time = try await timed { try await Worker(app: app, options: options).run() }
        var busiest = 0
        for runs in Dictionary(grouping: recorder.runs.withLock { $0 }, by: \.lock).values {
            for run in runs {
                busiest = max(busiest, runs.count { $0.start <= run.start && $0.end > run.start })
            }
        }
        let done = try await succeeded()
        var report = result(jobs: n, time, ok: done == n && busiest <= 2)
        report["keys"] = keys
        report["max_running_per_key"] = busiest
        return report
    }
}
