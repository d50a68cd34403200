import Foundation
import Logging
import Tracing

/// One run of one job: the task's body inside its middleware (an abort request or its
/// timeout cancels it), then its outcome logged, for the worker to record.
struct JobRun {
    let worker: Worker
    let job: Job
    let abort: AbortState

    /// How a run ended.
    enum Outcome {
        case succeeded
        case failed(any Error)
        case aborted
        case retry(RetryDecision, any Error)
    }

    private var logger: Logger { worker.logger }

    /// The job's fields and `extra`, for a log message: built only when the message is
    /// logged (metadata arguments are autoclosures), so a filtered level costs nothing.
    private func metadata(_ extra: Logger.Metadata) -> Logger.Metadata {
        extra.merging(JobContext.metadata(of: job), uniquingKeysWith: { extra, _ in extra })
    }

    /// Runs the job; returns the outcome for the worker to record, fenced by the attempt the
    /// job was claimed in.
    func run() async -> JobOutcome {
        let clock = worker.options.clock
        let started = clock.now
        logger.info("Starting job \(job.callString)", metadata: metadata(["action": "start_job"]))
        let metrics = worker.metrics.started(job, at: clock.date)

        let outcome: Outcome
        if let task = worker.app.task(named: job.taskName) {
            do {
                try await withSpan("procrastinate.job \(task.name)", ofKind: .consumer) { span in
                    span.attributes["procrastinate.job_id"] = Int(job.id)
                    span.attributes["procrastinate.queue"] = job.queue
                    span.attributes["procrastinate.attempt"] = job.attempts + 1
                    try await runBody(of: task)
                }
                outcome = .succeeded
            } catch {
                outcome = decide(after: error, policy: task.options.retry)
            }
        } else {
            let error = UnknownTask(name: job.taskName, knownNames: worker.app.taskNames)
            logger.error("\(error)", metadata: metadata(["action": "task_not_found"]))
            outcome = .failed(error)
        }

        let duration = clock.now - started
        metrics.ended(outcome: outcome, duration: duration)
        report(outcome, duration: duration)
        return record(outcome)
    }

    // MARK: Running

    /// Runs the task; an abort request or the timeout cancels it.
    private func runBody(of task: TaskDefinition) async throws {
        let context = JobContext(
            job: job, workerName: worker.options.name, workerQueues: worker.options.queues, startedAt: worker.options.clock.date,
            additionalContext: worker.options.additionalContext, logger: logger, abortState: abort
        )
        let middleware = worker.options.middleware + task.options.middleware
        let clock = worker.options.clock
        try await abort.cancellable {
            guard let timeout = task.options.timeout else {
                try await Self.invoke(task, context: context, middleware: middleware[...])
                return
            }
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await Self.invoke(task, context: context, middleware: middleware[...])
                    return false
                }
                group.addTask {
                    try? await clock.sleep(for: timeout)
                    return !Task.isCancelled
                }
                // The first to end: the body, or the timer (which cancels the body, then waits
                // for it to return or throw).
                let timedOut: Bool
                do {
                    timedOut = try await group.next() ?? false
                } catch {
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
                guard timedOut else { return }
                _ = try? await group.next()
                throw JobTimedOut(timeout: timeout)
            }
        }
    }

    /// The middleware, outermost first, around the task.
    private static func invoke(_ task: TaskDefinition, context: JobContext, middleware: ArraySlice<any JobMiddleware>) async throws {
        guard let outer = middleware.first else {
            try await task.run(arguments: context.job.arguments, context: context)
            return
        }
        try await outer.run(context) { context in
            try await invoke(task, context: context, middleware: middleware.dropFirst())
        }
    }

    /// Procrastinate's rules: a task asking for a retry gets it; an abort on request ends
    /// `aborted`; an abort at shutdown, a timeout and other errors go to the retry policy.
    private func decide(after error: any Error, policy: (any RetryPolicy)?) -> Outcome {
        if let retry = error as? RetryJob {
            return Self.checked(retry.decision, error)
        }
        let cancelled = error is CancellationError
        let reason = abort.reason ?? (cancelled && Task.isCancelled ? .shutdown : nil)
        if cancelled && reason == .userRequest {
            return .aborted
        }
        if error is ArgumentsError {
            return .failed(error)  // the same arguments would fail the same way
        }
        if let decision = policy?.retryDecision(for: error, attempts: job.attempts, now: worker.options.clock.date) {
            return Self.checked(decision, error)
        }
        return cancelled && reason != nil ? .aborted : .failed(error)
    }

    /// A retry, unless its new queue is one PostgreSQL cannot notify on: the job then fails
    /// with that error rather than hold an outcome that can never be written.
    private static func checked(_ decision: RetryDecision, _ error: any Error) -> Outcome {
        do {
            if let queue = decision.queue { try InvalidQueueName.check(queue) }
            return .retry(decision, error)
        } catch {
            return .failed(error)
        }
    }

    // MARK: Outcome

    /// The outcome to record, as the worker's `deleteJobs` option says.
    private func record(_ outcome: Outcome) -> JobOutcome {
        let deleteJobs = worker.options.deleteJobs
        switch outcome {
        case .succeeded:
            return JobOutcome(jobID: job.id, status: .succeeded, deleteJob: deleteJobs != .never, attempts: job.attempts)
        case .failed(let error):
            var failed = JobOutcome(jobID: job.id, status: .failed, deleteJob: deleteJobs == .always, attempts: job.attempts)
            failed.error = JobError.Cause(error)
            return failed
        case .aborted:
            return JobOutcome(jobID: job.id, status: .aborted, deleteJob: deleteJobs == .always, attempts: job.attempts)
        case .retry(let decision, let error):
            var retried = JobOutcome(jobID: job.id, retry: decision, attempts: job.attempts)
            retried.error = JobError.Cause(error)
            return retried
        }
    }

    private func report(_ outcome: Outcome, duration: Duration) {
        let level: Logger.Level
        switch outcome {
        case .succeeded, .aborted: level = .info
        case .failed: level = .error
        case .retry: level = .warning
        }
        guard logger.logLevel <= level else { return }
        let (status, action, error) = Self.describe(outcome)
        let seconds = String(format: "%.3f", duration.seconds)
        var extra: Logger.Metadata = ["action": "\(action)", "duration": "\(seconds)", "outcome": "\(status)"]
        extra["error"] = error.map { "\($0)" }
        logger.log(level: level, "Job \(job.callString) ended with status: \(status), lasted \(seconds) s", metadata: metadata(extra))
    }

    /// How the logs name an outcome: its status, its action, its error.
    private static func describe(_ outcome: Outcome) -> (status: String, action: String, error: (any Error)?) {
        switch outcome {
        case .succeeded:
            ("Success", "job_success", nil)
        case .failed(let error):
            ("Error", "job_error", error)
        case .aborted:
            ("Aborted", "job_aborted", nil)
        case .retry(_, let error) where error is CancellationError:
            ("Aborted, to retry", "job_aborted_retry", error)
        case .retry(_, let error):
            ("Error, to retry", "job_error_retry", error)
        }
    }
}
