public import Foundation

/// Where a job is in its life: the `procrastinate_job_status` enum of the database.
public enum JobStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Waiting to be fetched.
    case todo
    /// Fetched by a worker, running.
    case doing
    /// Ran to completion.
    case succeeded
    /// Ran and failed, with no retry left (a manual retry can still revive it).
    case failed
    /// Cancelled before it ran.
    case cancelled
    /// Kept for compatibility with Procrastinate before 3.0; never written.
    case aborting
    /// Stopped while running, on request or at shutdown.
    case aborted

    /// Whether the job will not change any more by itself.
    public var isFinal: Bool {
        switch self {
        case .succeeded, .failed, .cancelled, .aborted: true
        case .todo, .doing, .aborting: false
        }
    }
}

extension JobStatus {
    /// The status a `procrastinate_job_status` value names.
    ///
    /// - Throws: ``UnknownJobStatus`` for a value this version does not know (a newer schema's).
    public init(databaseValue: String) throws(UnknownJobStatus) {
        guard let status = JobStatus(rawValue: databaseValue) else { throw UnknownJobStatus(value: databaseValue) }
        self = status
    }
}


/// A job: one row of `procrastinate_jobs`.
public struct Job: Sendable, Hashable, Identifiable {
    /// The job's id.
    public var id: Int64
    /// The queue it waits in.
    public var queue: String
    /// The name of the task that runs it.
    public var taskName: String
    /// Higher runs first.
    public var priority: Int
    /// Jobs sharing a lock run one at a time, in order.
    public var lock: String?
    /// At most one waiting job per queueing lock.
    public var queueingLock: String?
    /// The task's arguments: a JSON object, as stored.
    public var arguments: String
    /// Where it is in its life.
    public var status: JobStatus
    /// Not before this time (nil: as soon as possible).
    public var scheduledAt: Date?
    /// How many times it ran before.
    public var attempts: Int
    /// Whether an abort was asked for while it runs.
    public var abortRequested: Bool
    /// The worker that fetched it, while that worker is registered.
    public var workerID: Int64?

    /// A job value.
    public init(
        id: Int64, queue: String, taskName: String, priority: Int = 0, lock: String? = nil, queueingLock: String? = nil,
        arguments: String = "{}", status: JobStatus = .todo, scheduledAt: Date? = nil, attempts: Int = 0,
        abortRequested: Bool = false, workerID: Int64? = nil
    ) {
        self.id = id
        self.queue = queue
        self.taskName = taskName
        self.priority = priority
        self.lock = lock
        self.queueingLock = queueingLock
        self.arguments = arguments
        self.status = status
        self.scheduledAt = scheduledAt
        self.attempts = attempts
        self.abortRequested = abortRequested
        self.workerID = workerID
    }

    /// `task_name[id](key=value, …)`, as Procrastinate writes a job in its logs.
    public var callString: String {
        let pairs = (try? JSONSerialization.jsonObject(with: Data(arguments.utf8)) as? [String: Any]) ?? [:]
        let rendered = pairs.keys.sorted().map { key in
            let value = pairs[key].map { value in
                (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]))
                    .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
            } ?? "null"
            return "\(key)=\(value)"
        }
        return "\(taskName)[\(id)](\(rendered.joined(separator: ", ")))"
    }
}

/// A job about to be inserted (`procrastinate_job_to_defer_v1`).
public struct NewJob: Sendable, Hashable {
    /// Its queue.
    public var queue: String
    /// Its task's name.
    public var taskName: String
    /// Its priority.
    public var priority: Int
    /// Its lock.
    public var lock: String?
    /// Its queueing lock.
    public var queueingLock: String?
    /// Its arguments: a JSON object.
    public var arguments: String
    /// Not before this time.
    public var scheduledAt: Date?
    /// Its limit key: jobs sharing one run within ``keyLimit`` together (nil: none).
    public var limitKey: String?
    /// The limit of its key, which becomes the key's (required with a key).
    public var keyLimit: Limit?

    /// A job to insert.
    public init(
        queue: String, taskName: String, priority: Int = 0, lock: String? = nil, queueingLock: String? = nil,
        arguments: String = "{}", scheduledAt: Date? = nil, limitKey: String? = nil, keyLimit: Limit? = nil
    ) {
        self.limitKey = limitKey
        self.keyLimit = keyLimit
        self.queue = queue
        self.taskName = taskName
        self.priority = priority
        self.lock = lock
        self.queueingLock = queueingLock
        self.arguments = arguments
        self.scheduledAt = scheduledAt
    }
}
