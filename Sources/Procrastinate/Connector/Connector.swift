public import Foundation

/// What Procrastinate needs of a database: the operations of the schema's SQL functions and
/// the listings of the admin API.
///
/// ``PostgresConnector`` implements it on PostgreSQL; `InMemoryConnector` (module
/// `ProcrastinateTesting`) implements the same semantics in memory for tests.
public protocol Connector: Sendable {
    /// How errors and logs name the database.
    var endpoint: String { get }

    /// Runs `body` with the connector open: connections made, closed afterwards.
    func open<Result: Sendable>(
        isolation: isolated (any Actor)?,
        during body: () async throws -> Result
    ) async throws -> Result

    // MARK: Deferring

    /// Inserts jobs in one statement, all or nothing; returns their ids in order.
    ///
    /// - Throws: ``AlreadyEnqueued`` when a queueing lock is taken (nothing is inserted).
    func deferJobs(_ jobs: [NewJob]) async throws -> [Int64]

    /// Defers one tick of a periodic task unless it was deferred before (by any scheduler),
    /// by the rule of ``PeriodicTickRecord``; returns the new job's id, or nil when the tick
    /// is not deferred.
    func deferPeriodicJob(_ job: NewJob, periodicID: String, timestamp: Int64) async throws -> Int64?

    // MARK: Working

    /// Claims the next runnable job of `queues` (nil: every queue) for a worker.
    func fetchJob(queues: [String]?, workerID: Int64?) async throws -> Job?

    /// Claims up to `limit` runnable jobs of `taskNames` (nil: every task) in one round trip,
    /// as `limit` calls of ``fetchJob(queues:workerID:)`` would (so at most one job per lock),
    /// best first; the claim is durable when this returns.
    func fetchJobs(queues: [String]?, workerID: Int64?, limit: Int, taskNames: [String]?) async throws -> [Job]

    /// How long until the earliest waiting job of `queues` and `taskNames` (nil: any) that is
    /// scheduled later than `after` is due (a job deferred for later, or a retry), or a full
    /// rate window of those queues, tasks or any key lets a job start: zero or less for one
    /// that became due since `after`; nil when there is none. An idle worker asks with when its
    /// fetch that found nothing began, and wakes then rather than at its next poll.
    func nextScheduledJob(queues: [String]?, taskNames: [String]?, scheduledAfter after: Date) async throws -> Duration?

    /// Records the outcomes of running jobs in one round trip (a retry included), with the
    /// rows and events of ``finishJob(id:status:deleteJob:)`` or ``retryJob(id:at:priority:queue:lock:)``
    /// for each, durably; returns the ids of the jobs left alone: no longer running, or running
    /// in another attempt than the outcome's (see ``JobOutcome/attempts``).
    func finishJobs(_ outcomes: [JobOutcome]) async throws -> [Int64]

    /// Records outcomes as ``finishJobs(_:)`` does, then claims up to `limit` jobs as
    /// ``fetchJobs(queues:workerID:limit:taskNames:)`` does, seeing those outcomes (a lock's
    /// next job can be claimed with its predecessor's outcome); in one round trip where the
    /// database allows. Returns the ids of the jobs left alone and the jobs claimed.
    func finishJobs(
        _ outcomes: [JobOutcome], thenFetch queues: [String]?, workerID: Int64?, limit: Int, taskNames: [String]?
    ) async throws -> (leftAlone: [Int64], fetched: [Job])

    /// Records a running (or waiting) job's outcome, or deletes the job.
    func finishJob(id: Int64, status: JobStatus, deleteJob: Bool) async throws

    /// Puts a running or failed job back in the queue, one attempt more; a running job with
    /// an abort request fails instead. Nil values keep the job's own.
    func retryJob(id: Int64, at date: Date, priority: Int?, queue: String?, lock: String?) async throws

    /// Adds a worker, with what it claims; returns its id.
    func registerWorker(_ registration: WorkerRegistration) async throws -> Int64

    /// Removes a worker (its jobs keep their rows, without worker).
    func unregisterWorker(id: Int64) async throws

    /// Records a worker's sign of life (`procrastinate_update_heartbeat_v1`).
    func updateHeartbeat(workerID: Int64) async throws

    /// Records the sign of life of a worker holding `held` jobs (claimed, their outcomes not yet
    /// recorded): registers it again under its id if its row was deleted (pruned while it was
    /// paused or cut off), takes back those of its jobs that lost their worker, puts back in
    /// the queue the jobs claimed for it that it does not hold and whose claim is older than
    /// `strayGrace`, and tells which held jobs are no longer its own.
    func heartbeat(
        workerID: Int64, holding held: [HeldJob], registration: WorkerRegistration, strayGrace: Duration
    ) async throws -> HeartbeatReply

    /// Removes workers silent for longer than `seconds`; returns their ids.
    func pruneStalledWorkers(olderThan seconds: Double) async throws -> [Int64]

    /// Running jobs with an abort request.
    func jobIDsToAbort(queue: String?) async throws -> [Int64]

    /// If `job` is still stalled (see ``stalledJobs(secondsSinceHeartbeat:queue:taskName:)``),
    /// in the attempt it was listed in, and not a job of worker `excludedWorkerID`, retries it
    /// as `decision` says (or fails it when nil) and returns true; otherwise changes nothing
    /// and returns false. Safe when many workers try at once: one succeeds.
    func recoverStalledJob(
        _ job: Job, staleAfter seconds: Double, excludingWorker excludedWorkerID: Int64?, decision: RetryDecision?
    ) async throws -> Bool

    // MARK: Limits and paused queues

    /// Sets the limit of a queue, a task or a limit key for every Swift worker, or removes it
    /// (nil; a key keeps the limit its jobs were deferred with).
    ///
    /// - Throws: ``ConfigurationError`` for a limit out of range.
    func setLimit(_ limit: Limit?, for target: LimitTarget) async throws

    /// Every limit with its use now: the queues' and tasks', and the keys' with jobs waiting or
    /// running; by scope and name.
    func limitUsage() async throws -> [LimitUsage]

    /// Waiting jobs of `queues` and `taskNames` (nil: any) held back by a queue, task or key
    /// limit without room now, counted up to 10,000 per limit.
    func jobsDelayedByLimits(queues: [String]?, taskNames: [String]?) async throws -> Int

    /// Pauses a queue for every Swift worker: none claims its jobs until it is resumed (jobs
    /// running go on). Returns false when it was paused already.
    func pauseQueue(_ name: String) async throws -> Bool

    /// Resumes a paused queue and wakes the workers listening to it. Returns false when it was
    /// not paused.
    func resumeQueue(_ name: String) async throws -> Bool

    /// The paused queues, by name.
    func pausedQueues() async throws -> [PausedQueue]

    // MARK: Administration

    /// Cancels a waiting job (or deletes it), or asks a running job to abort; returns the
    /// job's id, or nil when no job matched.
    func cancelJob(id: Int64, abort: Bool, deleteJob: Bool) async throws -> Int64?

    /// Deletes a job that is not running, with its events; returns whether one was.
    func deleteJob(id: Int64) async throws -> Bool

    /// A job's status; nil when there is no such job.
    func jobStatus(id: Int64) async throws -> JobStatus?

    /// The jobs passing `filter`, by id.
    func listJobs(_ filter: JobFilter) async throws -> [Job]

    /// The recorded errors of the failed attempts of jobs `ids`, by job, oldest first (none on
    /// a database without our migrations).
    func jobErrors(ids: [Int64]) async throws -> [Int64: [JobError]]

    /// Job counts per queue, task or lock, of the jobs passing `filter`, by name.
    func countJobs(by grouping: JobGrouping, _ filter: JobFilter) async throws -> [JobCounts]

    /// Deletes, among the first `limit` jobs after id `afterID`, those in `statuses` (of
    /// `queue`, if given) whose latest event is older than `seconds`, with their events (jobs
    /// without events stay): one batch of a prune, which reads and locks at most `limit` rows.
    func deleteOldJobs(olderThan seconds: Double, statuses: [JobStatus], queue: String?, after afterID: Int64, limit: Int) async throws -> PruneBatch

    /// Running jobs whose worker gave no sign of life for `secondsSinceHeartbeat`: its last
    /// heartbeat, or, when the worker's row was deleted while the job ran, the heartbeat it had
    /// then. A job claimed without a worker counts as stalled.
    func stalledJobs(secondsSinceHeartbeat: Double, queue: String?, taskName: String?) async throws -> [Job]

    /// The registered workers, by id.
    func listWorkers() async throws -> [WorkerInfo]

    /// Whether the database holds the schema.
    func isSchemaApplied() async throws -> Bool
}

extension Connector {
    /// Finishes, then fetches: two round trips.
    public func finishJobs(
        _ outcomes: [JobOutcome], thenFetch queues: [String]?, workerID: Int64?, limit: Int, taskNames: [String]?
    ) async throws -> (leftAlone: [Int64], fetched: [Job]) {
        let leftAlone = try await finishJobs(outcomes)
        return (leftAlone, try await fetchJobs(queues: queues, workerID: workerID, limit: limit, taskNames: taskNames))
    }

    /// Finishes, then fetches jobs of every task.
    public func finishJobs(
        _ outcomes: [JobOutcome], thenFetch queues: [String]?, workerID: Int64?, limit: Int
    ) async throws -> (leftAlone: [Int64], fetched: [Job]) {
        try await finishJobs(outcomes, thenFetch: queues, workerID: workerID, limit: limit, taskNames: nil)
    }

    /// Claims up to `limit` runnable jobs of every task.
    public func fetchJobs(queues: [String]?, workerID: Int64?, limit: Int) async throws -> [Job] {
        try await fetchJobs(queues: queues, workerID: workerID, limit: limit, taskNames: nil)
    }

    /// Adds a worker claiming every task of every queue; returns its id.
    public func registerWorker() async throws -> Int64 {
        try await registerWorker(WorkerRegistration(name: "worker", queues: nil, taskNames: nil))
    }

    /// Runs `body` with the connector open. Connectors that hold no resource just run it.
    public func open<Result: Sendable>(
        isolation: isolated (any Actor)? = #isolation,
        during body: () async throws -> Result
    ) async throws -> Result {
        try await body()
    }
}

/// The outcome of a job that ran, to record.
public struct JobOutcome: Sendable, Hashable {
    /// The job.
    public var jobID: Int64
    /// `succeeded`, `failed` or `aborted`; `todo` for a retry (see ``retry``).
    public var status: JobStatus
    /// Delete the row instead of keeping it (not for a retry).
    public var deleteJob: Bool
    /// When and how it runs again, for a retry.
    public var retry: RetryDecision?
    /// The job's attempts when it was claimed: the outcome is recorded only while the job still
    /// runs in that attempt, so a worker that lost its job to stalled-job recovery does not
    /// record over the next attempt. Nil: whatever the attempt.
    public var attempts: Int?
    /// The error that ended the attempt, for a failure or a retry: recorded with the job
    /// (when ``attempts`` is given).
    public var error: JobError.Cause?

    /// A final outcome: `succeeded`, `failed` or `aborted`.
    public init(jobID: Int64, status: JobStatus, deleteJob: Bool, attempts: Int? = nil) {
        self.jobID = jobID
        self.status = status
        self.deleteJob = deleteJob
        self.attempts = attempts
    }

    /// A retry as `decision` says (a job whose abort was requested fails instead).
    public init(jobID: Int64, retry decision: RetryDecision, attempts: Int? = nil) {
        self.init(jobID: jobID, status: .todo, deleteJob: false, attempts: attempts)
        self.retry = decision
    }
}

/// What a LISTENing worker hears: the NOTIFY payloads of the schema's triggers.
public enum JobNotification: Sendable, Hashable {
    /// A job was deferred (`{"type" : "job_inserted", "job_id" : 42}`).
    case jobInserted(jobID: Int64)
    /// A running job was asked to abort (`{"type" : "abort_job_requested", "job_id" : 42}`).
    case abortRequested(jobID: Int64)
    /// A paused queue was resumed (`{"type" : "queue_resumed", "queue" : "emails"}`).
    case queueResumed(queue: String)
    /// A job's end (or a retry, a cancel, a recovery) freed room in a queue that the worker
    /// that freed it did not take: a lock's next job, a concurrency limit's share
    /// (`{"type" : "room_freed", "queue" : "emails"}`).
    case roomFreed(queue: String)

    /// The notification a trigger's payload stands for, if it is one.
    public init?(payload: String) {
        struct Payload: Decodable {
            var type: String
            var job_id: Int64?
            var queue: String?
        }
        guard let decoded = try? JSONDecoder().decode(Payload.self, from: Data(payload.utf8)) else { return nil }
        switch (decoded.type, decoded.job_id, decoded.queue) {
        case ("job_inserted", let id?, _): self = .jobInserted(jobID: id)
        case ("abort_job_requested", let id?, _): self = .abortRequested(jobID: id)
        case ("queue_resumed", _, let queue?): self = .queueResumed(queue: queue)
        case ("room_freed", _, let queue?): self = .roomFreed(queue: queue)
        default: return nil
        }
    }

    /// The channels a worker of `queues` (nil: every queue) listens on: its queues' (or the
    /// any-queue channel), and the one where freed room is announced (room freed in one queue
    /// may serve another's jobs, under a task's or a key's limit).
    public static func channels(for queues: [String]?) -> [String] {
        (queues.map { $0.map { "procrastinate_queue_v1#\($0)" } } ?? ["procrastinate_any_queue_v1"]) + [roomFreedChannel]
    }

    /// Where `procrastinate_swift_notify_room_freed_v1` announces freed room.
    public static let roomFreedChannel = "procrastinate_swift_room_freed_v1"
}

/// A connector that can tell a worker about new jobs and abort requests as they happen.
public protocol NotifyingConnector: Connector {
    /// Listens for the notifications of `queues` (nil: every queue) until cancelled, calling
    /// `onReady` once listening and `onNotification` for each notification.
    ///
    /// - Throws: when the listening connection fails; the caller reconnects.
    func listen(
        queues: [String]?, onReady: @escaping @Sendable () -> Void,
        onNotification: @escaping @Sendable (JobNotification) -> Void
    ) async throws
}
