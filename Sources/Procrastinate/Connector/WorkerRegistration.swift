/// What a worker claims, as the database records it for administrators and for its
/// registration again after it was pruned.
public struct WorkerRegistration: Sendable, Hashable {
    /// The worker's name, as in its logs.
    public var name: String
    /// The queues it fetches from (nil: every queue).
    public var queues: [String]?
    /// The tasks whose jobs it claims (nil: every task, including tasks it does not know).
    public var taskNames: [String]?

    /// A registration.
    public init(name: String, queues: [String]?, taskNames: [String]?) {
        self.name = name
        self.queues = queues
        self.taskNames = taskNames
    }
}

/// A job a worker claimed and whose outcome is not recorded yet, in the attempt it claimed.
public struct HeldJob: Sendable, Hashable {
    /// The job's id.
    public var id: Int64
    /// Its attempts when it was claimed.
    public var attempts: Int

    /// A held job.
    public init(id: Int64, attempts: Int) {
        self.id = id
        self.attempts = attempts
    }
}

/// What the database answers a worker's heartbeat.
public struct HeartbeatReply: Sendable, Hashable {
    /// Whether the worker's row had been deleted (it was pruned) and was made again.
    public var registeredAgain: Bool
    /// Held jobs that are no longer the worker's: recovered, finished or claimed again
    /// elsewhere while it was paused or cut off. It must stop them and not record them.
    public var lostJobIDs: [Int64]
    /// Jobs claimed for the worker that it never received (the answer to its claim was lost),
    /// put back in the queue.
    public var releasedJobIDs: [Int64]

    /// A reply.
    public init(registeredAgain: Bool, lostJobIDs: [Int64], releasedJobIDs: [Int64]) {
        self.registeredAgain = registeredAgain
        self.lostJobIDs = lostJobIDs
        self.releasedJobIDs = releasedJobIDs
    }
}

/// What a set of registered workers claims.
public struct WorkerClaims: Sendable, Hashable {
    /// The workers.
    public var workers: [WorkerInfo]

    /// The claims of `workers`.
    public init(workers: [WorkerInfo]) {
        self.workers = workers
    }

    /// Whether some worker claims jobs of `taskName` waiting in `queue` (nil: in some queue).
    /// A Python worker, whose claims are not recorded, claims every task of every queue.
    public func claim(taskName: String, queue: String? = nil) -> Bool {
        workers.contains { worker in
            guard let claims = worker.registration else { return true }
            let queueClaimed = queue.map { queue in claims.queues.map { $0.contains(queue) } ?? true } ?? true
            return queueClaimed && (claims.taskNames.map { $0.contains(taskName) } ?? true)
        }
    }
}
