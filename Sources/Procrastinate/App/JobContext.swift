public import Foundation
public import Logging
import Synchronization

/// Why a running job is asked to stop.
public enum AbortReason: String, Sendable, Hashable {
    /// `cancel(id, abort: true)` was called.
    case userRequest = "user_request"
    /// The worker is shutting down and its graceful timeout passed.
    case shutdown
    /// The worker was paused or cut off from the database for longer than the stalled-job
    /// recovery threshold, and another worker recovered the job: it runs there now, and what
    /// this run does is not recorded.
    case lost
}

/// What a task knows about the job it runs.
public struct JobContext: Sendable {
    /// The job.
    public let job: Job
    /// The worker's name.
    public let workerName: String
    /// The queues the worker fetches from (nil: every queue).
    public let workerQueues: [String]?
    /// When the job started.
    public let startedAt: Date
    /// Values the worker gives every job (a copy per job).
    public let additionalContext: [String: String]
    /// The worker's logger with the job's metadata (`task`, `job_id`, `queue`, `attempt`,
    /// `worker`): what a task logs is found with the worker's own lines about the job. Made
    /// when asked for, so that jobs that do not log do not pay for it.
    public var logger: Logger {
        var logger = workerLogger
        for (key, value) in Self.metadata(of: job) { logger[metadataKey: key] = value }
        logger[metadataKey: "worker"] = "\(workerName)"
        return logger
    }
    private let workerLogger: Logger
    let abortState: AbortState

    /// A context; workers make them, tests may too (`logger`: the worker's, to which the
    /// job's metadata is added).
    public init(
        job: Job, workerName: String = "worker", workerQueues: [String]? = nil, startedAt: Date = Date(),
        additionalContext: [String: String] = [:], logger: Logger = Logger(label: "procrastinate")
    ) {
        self.init(
            job: job, workerName: workerName, workerQueues: workerQueues, startedAt: startedAt,
            additionalContext: additionalContext, logger: logger, abortState: AbortState()
        )
    }

    init(
        job: Job, workerName: String, workerQueues: [String]?, startedAt: Date, additionalContext: [String: String],
        logger: Logger, abortState: AbortState
    ) {
        self.job = job
        self.workerName = workerName
        self.workerQueues = workerQueues
        self.startedAt = startedAt
        self.additionalContext = additionalContext
        self.workerLogger = logger
        self.abortState = abortState
    }

    /// The fields of `job` every log line about it carries.
    static func metadata(of job: Job) -> Logger.Metadata {
        ["task": "\(job.taskName)", "job_id": "\(job.id)", "queue": "\(job.queue)", "attempt": "\(job.attempts + 1)"]
    }

    /// Why the job is asked to stop, if it is.
    public var abortReason: AbortReason? { abortState.reason }

    /// Whether the job is asked to stop: a long task checks it and returns (or throws
    /// `CancellationError`) early.
    public var shouldAbort: Bool { abortState.reason != nil }
}

/// The abort request of a running job, shared by its context and its worker: a request
/// records its reason and cancels the task running the job's body.
final class AbortState: Sendable {
    private struct State {
        var reason: AbortReason?
        /// The task running the body, while it does.
        var running: RunningTask?
        /// Whether a request is cancelling that task now.
        var cancelling = false
    }

    /// The handle of a task known to be running: the task does not leave ``cancellable(_:)``
    /// while a request is cancelling it.
    private struct RunningTask: @unchecked Sendable {
        let task: UnsafeCurrentTask
    }

    private let state = Mutex(State())

    var reason: AbortReason? { state.withLock { $0.reason } }

    /// Records `reason` unless one was recorded before, and cancels the body; returns whether
    /// it was recorded.
    @discardableResult
    func request(_ reason: AbortReason) -> Bool {
        let (recorded, running) = state.withLock { state -> (Bool, RunningTask?) in
            guard state.reason == nil else { return (false, nil) }
            state.reason = reason
            state.cancelling = state.running != nil
            return (true, state.running)
        }
        // Outside the lock: cancelling runs the body's cancellation handlers, which may read
        // the reason.
        if let running {
            running.task.cancel()
            state.withLock { $0.cancelling = false }
        }
        return recorded
    }

    /// Runs `body` in the current task, which an abort request (earlier or meanwhile)
    /// cancels.
    func cancellable<Result>(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result) async throws -> Result {
        let cancelNow = withUnsafeCurrentTask { task in
            state.withLock { state in
                state.running = task.map(RunningTask.init)
                return state.reason != nil
            }
        }
        if cancelNow {
            withUnsafeCurrentTask { $0?.cancel() }
        }
        do {
            let result = try await body()
            await leave()
            return result
        } catch {
            await leave()
            throw error
        }
    }

    /// Forgets the running task, once no request is cancelling it.
    private func leave() async {
        while state.withLock({ state in
            if !state.cancelling { state.running = nil }
            return state.cancelling
        }) {
            await Task.yield()
        }
    }
}
