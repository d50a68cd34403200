import Foundation
import Metrics
import Synchronization

/// The worker's swift-metrics: jobs started and ended per outcome, by task and queue; how long
/// jobs ran; how long due jobs waited before starting; jobs of its queues delayed by a limit.
///
/// The metrics of a task and queue are made once, on its first job, from the metrics factory
/// of that moment (the bootstrapped one, or a task-local one).
final class WorkerMetrics: Sendable {
    fileprivate struct Key: Hashable {
        var task: String
        var queue: String
    }

    /// The metrics of one task in one queue (a class: one reference to hand out per job).
    final class TaskMetrics: Sendable {
        fileprivate let started, succeeded, failed, aborted, retried: Counter
        fileprivate let duration, queueWait: Timer

        fileprivate init(_ key: Key) {
            let dimensions = [("task", key.task), ("queue", key.queue)]
            started = Counter(label: "procrastinate_jobs_started_total", dimensions: dimensions)
            succeeded = Counter(label: "procrastinate_jobs_succeeded_total", dimensions: dimensions)
            failed = Counter(label: "procrastinate_jobs_failed_total", dimensions: dimensions)
            aborted = Counter(label: "procrastinate_jobs_aborted_total", dimensions: dimensions)
            retried = Counter(label: "procrastinate_jobs_retried_total", dimensions: dimensions)
            duration = Timer(label: "procrastinate_job_duration_seconds", dimensions: dimensions)
            queueWait = Timer(label: "procrastinate_job_queue_wait_seconds", dimensions: dimensions)
        }

        /// Counts a job ended with `outcome`, and times it.
        func ended(outcome: JobRun.Outcome, duration: Duration) {
            let counter = switch outcome {
            case .succeeded: succeeded
            case .failed: failed
            case .aborted: aborted
            case .retry: retried
            }
            counter.increment()
            self.duration.recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        }
    }

    private let cache = Mutex<[Key: TaskMetrics]>([:])

    private let delayedByLimits = Gauge(label: "procrastinate_jobs_delayed_by_limits")

    /// Records how many waiting jobs of the worker's queues and tasks a limit without room
    /// holds back (see ``Connector/jobsDelayedByLimits(queues:taskNames:)``).
    func jobsDelayedByLimits(_ count: Int) {
        delayedByLimits.record(count)
    }

    private func metrics(of job: Job) -> TaskMetrics {
        let key = Key(task: job.taskName, queue: job.queue)
        return cache.withLock { cache in
            if let metrics = cache[key] { return metrics }
            let metrics = TaskMetrics(key)
            cache[key] = metrics
            return metrics
        }
    }

    /// Counts `job` started at `now`; returns its task's metrics, for
    /// ``TaskMetrics/ended(outcome:duration:)``.
    func started(_ job: Job, at now: Date) -> TaskMetrics {
        let metrics = metrics(of: job)
        metrics.started.increment()
        if let scheduledAt = job.scheduledAt {
            metrics.queueWait.recordSeconds(max(0, now.timeIntervalSince(scheduledAt)))
        }
        return metrics
    }
}
