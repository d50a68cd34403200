public import Foundation

/// Which jobs a listing is about; nil fields match everything.
public struct JobFilter: Sendable, Hashable {
    /// Only this job.
    public var id: Int64?
    /// Only this queue.
    public var queue: String?
    /// Only this task.
    public var taskName: String?
    /// Only this status.
    public var status: JobStatus?
    /// Only this lock.
    public var lock: String?
    /// Only this queueing lock.
    public var queueingLock: String?
    /// Only jobs fetched by this worker.
    public var workerID: Int64?

    /// A filter; every criterion is optional.
    public init(
        id: Int64? = nil, queue: String? = nil, taskName: String? = nil, status: JobStatus? = nil, lock: String? = nil,
        queueingLock: String? = nil, workerID: Int64? = nil
    ) {
        self.id = id
        self.queue = queue
        self.taskName = taskName
        self.status = status
        self.lock = lock
        self.queueingLock = queueingLock
        self.workerID = workerID
    }

    /// Whether `job` passes the filter.
    public func matches(_ job: Job) -> Bool {
        (id == nil || job.id == id) && (queue == nil || job.queue == queue) && (taskName == nil || job.taskName == taskName)
            && (status == nil || job.status == status) && (lock == nil || job.lock == lock)
            && (queueingLock == nil || job.queueingLock == queueingLock) && (workerID == nil || job.workerID == workerID)
    }
}

/// Job counts of a queue, a task or a lock, by status.
public struct JobCounts: Sendable, Hashable {
    /// The queue's, task's or lock's name.
    public var name: String
    /// Jobs per status (statuses without jobs are absent).
    public var byStatus: [JobStatus: Int]

    /// Counts.
    public init(name: String, byStatus: [JobStatus: Int]) {
        self.name = name
        self.byStatus = byStatus
    }

    /// All the jobs.
    public var total: Int { byStatus.values.reduce(0, +) }

    /// The jobs of one status.
    public subscript(status: JobStatus) -> Int { byStatus[status] ?? 0 }
}

/// A registered worker.
public struct WorkerInfo: Sendable, Hashable {
    /// Its id.
    public var id: Int64
    /// Its last sign of life.
    public var lastHeartbeat: Date
    /// What it claims, for a worker of ours (nil: a Python worker, which claims every task).
    public var registration: WorkerRegistration?
    /// How many of its jobs are running.
    public var running: Int

    /// A worker row.
    public init(id: Int64, lastHeartbeat: Date, registration: WorkerRegistration? = nil, running: Int = 0) {
        self.id = id
        self.lastHeartbeat = lastHeartbeat
        self.registration = registration
        self.running = running
    }
}

/// What to group job counts by.
public enum JobGrouping: String, Sendable, Hashable {
    case queue, task, lock
}
