import Foundation
import Metrics

/// The worker's swift-metrics: jobs started and ended per outcome, by task and queue; how long
/// jobs ran; how long due jobs waited before starting.
struct WorkerMetrics: Sendable {
    func started(_ job: Job) {
        Counter(label: "procrastinate_jobs_started_total", dimensions: dimensions(job)).increment()
        if let scheduledAt = job.scheduledAt {
            Timer(label: "procrastinate_job_queue_wait_seconds", dimensions: dimensions(job))
                .recordSeconds(max(0, Date().timeIntervalSince(scheduledAt)))
        }
    }

    func ended(_ job: Job, outcome: JobRun.Outcome, duration: Duration) {
        let name = switch outcome {
        case .succeeded: "procrastinate_jobs_succeeded_total"
        case .failed: "procrastinate_jobs_failed_total"
        case .aborted: "procrastinate_jobs_aborted_total"
        case .retry: "procrastinate_jobs_retried_total"
        }
        Counter(label: name, dimensions: dimensions(job)).increment()
        Timer(label: "procrastinate_job_duration_seconds", dimensions: dimensions(job)).recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        )
    }

    private func dimensions(_ job: Job) -> [(String, String)] {
        [("task", job.taskName), ("queue", job.queue)]
    }
}
