import Foundation
import Synchronization

/// Why a running job is asked to stop.
public enum AbortReason: String, Sendable, Hashable {
    /// `cancel(id, abort: true)` was called.
    case userRequest = "user_request"
    /// The worker is shutting down and its graceful timeout passed.
    case shutdown
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
    let abortState: AbortState

    /// A context; workers make them, tests may too.
    public init(
        job: Job, workerName: String = "worker", workerQueues: [String]? = nil, startedAt: Date = Date(),
        additionalContext: [String: String] = [:]
    ) {
        self.init(
            job: job, workerName: workerName, workerQueues: workerQueues, startedAt: startedAt,
            additionalContext: additionalContext, abortState: AbortState()
        )
    }

    init(
        job: Job, workerName: String, workerQueues: [String]?, startedAt: Date, additionalContext: [String: String],
        abortState: AbortState
    ) {
        self.job = job
        self.workerName = workerName
        self.workerQueues = workerQueues
        self.startedAt = startedAt
        self.additionalContext = additionalContext
        self.abortState = abortState
    }

    /// Why the job is asked to stop, if it is.
    public var abortReason: AbortReason? { abortState.reason }

    /// Whether the job is asked to stop: a long task checks it and returns (or throws
    /// `CancellationError`) early.
    public var shouldAbort: Bool { abortState.reason != nil }
}

/// The abort request of a running job, shared by its context and its worker.
final class AbortState: Sendable {
    private let storage = Mutex<AbortReason?>(nil)
    /// Sent when an abort is requested.
    let requested = Signal()

    var reason: AbortReason? { storage.withLock { $0 } }

    /// Records `reason` unless one was recorded before; returns whether it was.
    @discardableResult
    func request(_ reason: AbortReason) -> Bool {
        let recorded = storage.withLock { current in
            guard current == nil else { return false }
            current = reason
            return true
        }
        if recorded { requested.send() }
        return recorded
    }
}
