import Foundation
import Procrastinate
import Synchronization

// The workloads where limits bind: three workers of concurrency 10 (each registered, claiming
// and writing on its own, in this one process) drain jobs that a limit holds back, and the
// rate they reach is reported against the rate the limit allows (`ideal_jobs_per_s`,
// `of_ideal`). A worker that waited for its poll (5 s) for room freed would reach a few
// percent of it.

/// The arguments of `bench.bound`: the body sleeps `milliseconds`; its limit key is `key`
/// (keys have a limit of concurrency 2).
struct Bound: Codable, Sendable {
    var milliseconds: Int
    var key: String?
}

extension QueueBenchmark {
    /// The task of the binding workloads: each run recorded, for the rate and the check.
    func registerBoundTask() throws -> TaskHandle<Bound> {
        let recorder = self.recorder
        return try app.task("bench.bound", keyLimit: Limit(concurrency: 2), limitKey: { (job: Bound) in job.key }) { (job: Bound, context: JobContext) in
            let start = ContinuousClock.now
            if job.milliseconds > 0 { try await Task.sleep(for: .milliseconds(job.milliseconds)) }
            recorder.runs.withLock { $0.append(Recorder.Run(lock: job.key ?? "", id: context.job.id, start: start, end: .now)) }
        }
    }

    /// `count` jobs of `task` held back by `limit` on the task (nil: by their keys' limit of
    /// concurrency 2, over `keys` keys), drained by three workers; `ideal`: the jobs/s the
    /// limit allows.
    func bindingLimit(
        _ limit: Limit?, keys: Int? = nil, jobs count: Int, milliseconds: Int, ideal: Double, task: TaskHandle<Bound>
    ) async throws -> [String: Any] {
        try await prepare()
        if let limit { try await app.jobManager.setLimit(limit, for: .task("bench.bound")) }
        let arguments = (0..<count).map { i in Bound(milliseconds: milliseconds, key: keys.map { "key-\(i % $0)" }) }
        for start in stride(from: 0, to: count, by: 1000) {
            _ = try await task.batchDefer(Array(arguments[start..<min(start + 1000, count)]))
        }
        let options = WorkerOptions(concurrency: 10, stalledJobRecoveryThreshold: nil, runsPeriodicDeferrer: false)
        let workers = (0..<3).map { _ in Worker(app: app, options: options) }
        let time = try await timed {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in workers { group.addTask { try await worker.run() } }
                while recorder.runs.withLock({ $0.count }) < count { try await Task.sleep(for: .milliseconds(5)) }
                workers.forEach { $0.stop() }
                try await group.waitForAll()
            }
        }
        let runs = recorder.runs.withLock { $0 }
        let starts = runs.map(\.start).sorted()
        // The steady rate: from the 4th start (the first ones start together) to the last.
        let steady = starts.count > 4 ? Double(starts.count - 4) / (starts.last! - starts[3]).seconds : 0
        // The most running at once, per key (or of the task).
        var busiest = 0
        for group in Dictionary(grouping: runs, by: \.lock).values {
            for run in group { busiest = max(busiest, group.count { $0.start <= run.start && $0.end > run.start }) }
        }
        let concurrency = limit.map { $0.concurrency } ?? 2
        var report = result(jobs: count, time, ok: runs.count == count && concurrency.map { busiest <= $0 } ?? true)
        report["jobs_per_s"] = steady
        report["ideal_jobs_per_s"] = ideal
        report["of_ideal"] = steady / ideal
        report["max_running"] = busiest
        return report
    }
}

extension Duration {
    fileprivate var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
