public import Foundation

/// Administration of jobs, queues and workers: what the `procrastinate` command line and the
/// shell do, for application code.
public struct JobManager: Sendable {
    /// The database.
    public let connector: any Connector

    /// A manager working through `connector`.
    public init(connector: any Connector) {
        self.connector = connector
    }

    /// A job's status; nil when there is no such job.
    public func status(of id: Int64) async throws -> JobStatus? {
        try await connector.jobStatus(id: id)
    }

    /// One job; nil when there is no such job.
    public func job(id: Int64) async throws -> Job? {
        try await connector.listJobs(JobFilter(id: id)).first
    }

    /// The jobs passing `filter`, by id.
    public func listJobs(_ filter: JobFilter = JobFilter()) async throws -> [Job] {
        try await connector.listJobs(filter)
    }

    /// Job counts per queue, by name.
    public func listQueues(_ filter: JobFilter = JobFilter()) async throws -> [JobCounts] {
        try await connector.countJobs(by: .queue, filter)
    }

    /// Job counts per task, by name.
    public func listTasks(_ filter: JobFilter = JobFilter()) async throws -> [JobCounts] {
        try await connector.countJobs(by: .task, filter)
    }

    /// Job counts per lock (jobs without a lock left out), by name.
    public func listLocks(_ filter: JobFilter = JobFilter()) async throws -> [JobCounts] {
        try await connector.countJobs(by: .lock, filter)
    }

    /// Cancels a waiting job (deleting it with `delete`); with `abort`, also asks a running
    /// job to stop. Returns whether a job matched.
    @discardableResult
    public func cancel(id: Int64, abort: Bool = false, delete: Bool = false) async throws -> Bool {
        try await connector.cancelJob(id: id, abort: abort, deleteJob: delete) != nil
    }

    /// Deletes a job that is not running, with its events (a running job must be aborted
    /// first). Returns whether a job was deleted.
    @discardableResult
    public func delete(id: Int64) async throws -> Bool {
        try await connector.deleteJob(id: id)
    }

    /// The recorded errors of job `id`'s failed attempts, oldest first: each attempt that
    /// failed or was retried after an error, with the error's type and message.
    public func errors(of id: Int64) async throws -> [JobError] {
        try await connector.jobErrors(ids: [id])[id] ?? []
    }

    /// The recorded errors of the failed attempts of jobs `ids`, by job.
    public func errors(of ids: [Int64]) async throws -> [Int64: [JobError]] {
        try await connector.jobErrors(ids: ids)
    }

    /// Puts a running or failed job back in the queue at `date` (now by default), one attempt
    /// more, optionally with another priority, queue or lock.
    ///
    /// - Throws: ``ConfigurationError`` for a priority out of ``JobOptions/priorities``,
    ///   ``NoSuchJob``.
    public func retry(id: Int64, at date: Date = Date(), priority: Int? = nil, queue: String? = nil, lock: String? = nil) async throws {
        if let priority { try JobOptions.check(priority: priority, of: "job \(id)") }
        guard try await job(id: id) != nil else { throw NoSuchJob(jobID: id) }
        try await connector.retryJob(id: id, at: date, priority: priority, queue: queue, lock: lock)
    }

    /// Deletes finished jobs whose latest event is older than `hours`: succeeded ones, and
    /// the other final statuses asked for. Returns how many. Python's `remove_old_jobs`; see
    /// ``prune(statuses:olderThan:queue:batchSize:)``.
    @discardableResult
    public func deleteOldJobs(
        olderThan hours: Double, queue: String? = nil, includeFailed: Bool = false, includeCancelled: Bool = false,
        includeAborted: Bool = false
    ) async throws -> Int {
        var statuses: [JobStatus] = [.succeeded]
        if includeFailed { statuses.append(.failed) }
        if includeCancelled { statuses.append(.cancelled) }
        if includeAborted { statuses.append(.aborted) }
        return try await prune(statuses: statuses, olderThan: .seconds(hours * 3600), queue: queue)
    }

    /// Deletes the jobs in `statuses` (of `queue`, if given) whose latest event is older than
    /// `age`, with their events; jobs without events stay. Returns how many.
    ///
    /// It walks the table in id order in batches of `batchSize` rows, each its own short
    /// transaction, so that it never holds many locks nor holds them long, and other work
    /// goes on meanwhile.
    ///
    /// - Throws: ``InvalidPrune`` when `statuses` holds a status a job does not end in, or
    ///   `age` is negative.
    @discardableResult
    public func prune(statuses: [JobStatus], olderThan age: Duration, queue: String? = nil, batchSize: Int = 1000) async throws -> Int {
        if let status = statuses.first(where: { !$0.isFinal }) {
            throw InvalidPrune(reason: "status '\(status.rawValue)' is not a final status (succeeded, failed, cancelled, aborted)")
        }
        guard age >= .zero else { throw InvalidPrune(reason: "a job's age cannot be negative (\(age))") }
        guard batchSize > 0 else { throw InvalidPrune(reason: "the batch size must be positive (\(batchSize))") }
        let seconds = Double(age.components.seconds) + Double(age.components.attoseconds) / 1e18
        var deleted = 0
        var after: Int64 = 0
        while true {
            let batch = try await connector.deleteOldJobs(olderThan: seconds, statuses: statuses, queue: queue, after: after, limit: batchSize)
            deleted += batch.deleted
            guard let last = batch.lastExaminedID else { return deleted }
            after = last
        }
    }

    /// Running jobs whose worker is gone or silent for `secondsSinceHeartbeat` (30 by default).
    public func stalledJobs(secondsSinceHeartbeat: Double = 30, queue: String? = nil, taskName: String? = nil) async throws -> [Job] {
        try await connector.stalledJobs(secondsSinceHeartbeat: secondsSinceHeartbeat, queue: queue, taskName: taskName)
    }

    /// The registered workers.
    public func listWorkers() async throws -> [WorkerInfo] {
        try await connector.listWorkers()
    }

    /// What the registered workers claim, to tell the waiting jobs no worker will run.
    public func workerClaims() async throws -> WorkerClaims {
        WorkerClaims(workers: try await connector.listWorkers())
    }

    // MARK: Limits and paused queues

    /// Every limit with its use now: queues', tasks', and the keys with jobs waiting or running.
    public func limits() async throws -> [LimitUsage] {
        try await connector.limitUsage()
    }

    /// Sets the limit of a queue, a task or a limit key for every Swift worker, or removes a
    /// queue's or task's (nil). A worker that declares a limit writes it again when it starts.
    public func setLimit(_ limit: Limit?, for target: LimitTarget) async throws {
        try target.checkName()
        try await connector.setLimit(limit, for: target)
    }

    /// Removes the limit of a queue, a task, or a limit key no job names any more; returns
    /// false when `target` has no limit.
    ///
    /// - Throws: ``ConfigurationError`` for a key that jobs still name (it keeps its limit while
    ///   they exist: set another one instead).
    public func removeLimit(for target: LimitTarget) async throws -> Bool {
        try target.checkName()
        guard try await connector.limitUsage().contains(where: { $0.target == target }) else { return false }
        try await connector.setLimit(nil, for: target)
        return true
    }

    /// Pauses a queue for every Swift worker: none claims its jobs until it is resumed, across
    /// restarts; jobs running finish. Returns false when it was paused already.
    @discardableResult
    public func pause(queue: String) async throws -> Bool {
        try await connector.pauseQueue(queue)
    }

    /// Resumes a paused queue; the workers listening to it claim at once. Returns false when it
    /// was not paused.
    @discardableResult
    public func resume(queue: String) async throws -> Bool {
        try await connector.resumeQueue(queue)
    }

    /// The paused queues, by name.
    public func pausedQueues() async throws -> [PausedQueue] {
        try await connector.pausedQueues()
    }
}
