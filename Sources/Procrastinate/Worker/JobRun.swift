import Foundation
import Logging
import Tracing

/// One run of one job: the task's body inside its middleware, watched for abort requests and
/// its timeout, then its outcome written to the database.
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

    private var logger: Logger {
        var logger = worker.logger
        logger[metadataKey: "task"] = "\(job.taskName)"
        logger[metadataKey: "job_id"] = "\(job.id)"
        logger[metadataKey: "queue"] = "\(job.queue)"
        logger[metadataKey: "attempt"] = "\(job.attempts + 1)"
        return logger
    }

    /// Runs the job; `bodyEnded` is called once the task's body has returned, before the
    /// outcome is written.
    func run(bodyEnded: () -> Void) async {
        let started = ContinuousClock.now
        let logger = logger
        logger.info("Starting job \(job.callString)", metadata: ["action": "start_job"])
        worker.metrics.started(job)

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
            logger.error("\(error)", metadata: ["action": "task_not_found"])
            outcome = .failed(error)
        }

        let duration = ContinuousClock.now - started
        bodyEnded()
        await write(outcome)
        report(outcome, duration: duration, logger: logger)
    }

    // MARK: Running

    /// What ended the watch over a running body.
    private enum WatchEnd: Sendable {
        case bodyFinished
        case abortRequested
        case timedOut
    }

    /// Runs the task; an abort request or the timeout cancels it.
    private func runBody(of task: TaskDefinition) async throws {
        let context = JobContext(
            job: job, workerName: worker.options.name, workerQueues: worker.options.queues, startedAt: Date(),
            additionalContext: worker.options.additionalContext, abortState: abort
        )
        let middleware = worker.options.middleware + task.options.middleware
        let abort = self.abort
        let timeout = task.options.timeout
        let timedOut = try await withThrowingTaskGroup(of: WatchEnd.self) { group in
            group.addTask {
                try await Self.invoke(task, context: context, middleware: middleware[...])
                return .bodyFinished
            }
            group.addTask {
                if let timeout {
                    return await abort.requested.wait(upTo: timeout) ? .abortRequested : .timedOut
                }
                await abort.requested.wait()
                return .abortRequested
            }
            defer { group.cancelAll() }
            var timedOut = false
            while let end = try await group.next() {
                switch end {
                case .bodyFinished:
                    return timedOut
                case .abortRequested, .timedOut:
                    // Cancel the body, then wait for it to end: it may still return or throw.
                    timedOut = end == .timedOut && !Task.isCancelled
                    group.cancelAll()
                }
            }
            return timedOut
        }
        if timedOut, let timeout {
            throw JobTimedOut(timeout: timeout)
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
            return .retry(retry.decision, error)
        }
        let cancelled = error is CancellationError
        let reason = abort.reason ?? (cancelled && Task.isCancelled ? .shutdown : nil)
        if cancelled && reason == .userRequest {
            return .aborted
        }
        if error is ArgumentsError {
            return .failed(error)  // the same arguments would fail the same way
        }
        if let decision = policy?.retryDecision(for: error, attempts: job.attempts, now: Date()) {
            return .retry(decision, error)
        }
        return cancelled && reason != nil ? .aborted : .failed(error)
    }

    // MARK: Outcome

    /// Writes the outcome (see ``OutcomeWriter``); returns whether it was written. If not, the
    /// job stays `doing` and stalled-job recovery will take it.
    @discardableResult
    private func write(_ outcome: Outcome) async -> Bool {
        let deleteJobs = worker.options.deleteJobs
        let status: JobStatus
        let delete: Bool
        switch outcome {
        case .succeeded:
            (status, delete) = (.succeeded, deleteJobs != .never)
        case .failed:
            (status, delete) = (.failed, deleteJobs == .always)
        case .aborted:
            (status, delete) = (.aborted, deleteJobs == .always)
        case .retry(let decision, _):
            let connector = worker.app.connector
            let (id, logger) = (job.id, logger)
            // Outside the job's task, so that a cancelled worker still records it.
            return await Task {
                await OutcomeWriter.persistently(logger: logger) {
                    try await connector.retryJob(
                        id: id, at: decision.retryAt, priority: decision.priority, queue: decision.queue, lock: decision.lock
                    )
                } != nil
            }.value
        }
        return await worker.outcomes.write(JobOutcome(jobID: job.id, status: status, deleteJob: delete))
    }

    private func report(_ outcome: Outcome, duration: Duration, logger: Logger) {
        let seconds = String(format: "%.3f", duration.seconds)
        var metadata: Logger.Metadata = ["duration": "\(seconds)"]
        let status: String
        let level: Logger.Level
        switch outcome {
        case .succeeded:
            (status, level) = ("Success", .info)
            metadata["action"] = "job_success"
        case .failed(let error):
            (status, level) = ("Error", .error)
            metadata["action"] = "job_error"
            metadata["error"] = "\(error)"
        case .aborted:
            (status, level) = ("Aborted", .info)
            metadata["action"] = "job_aborted"
        case .retry(_, let error):
            let aborted = error is CancellationError
            (status, level) = (aborted ? "Aborted, to retry" : "Error, to retry", .warning)
            metadata["action"] = aborted ? "job_aborted_retry" : "job_error_retry"
            metadata["error"] = "\(error)"
        }
        metadata["outcome"] = "\(status)"
        logger.log(level: level, "Job \(job.callString) ended with status: \(status), lasted \(seconds) s", metadata: metadata)
        worker.metrics.ended(job, outcome: outcome, duration: duration)
    }
}
