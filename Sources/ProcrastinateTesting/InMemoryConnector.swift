public import Foundation
public import Procrastinate

/// A `Connector` keeping jobs in memory, with the same semantics as the SQL schema, for
/// tests of applications that defer and run jobs.
///
/// Unlike Python Procrastinate's fake, it applies the whole lock rule: a job waits while an
/// earlier (or higher-priority) waiting job of its lock exists, not only while one runs.
///
/// ```swift
/// let connector = InMemoryConnector()
/// let app = App(connector: connector)
/// ```
public actor InMemoryConnector: NotifyingConnector {
    /// One row of `procrastinate_events`.
    public struct Event: Sendable, Hashable {
        /// The event's id.
        public var id: Int64
        /// Its job.
        public var jobID: Int64
        /// `deferred`, `started`, `succeeded`, …
        public var type: String
        /// When (for `scheduled`: the planned time).
        public var at: Date?
    }

    private struct PeriodicDefer {
        var taskName: String
        var periodicID: String
        var timestamp: Int64
        var jobID: Int64?
    }

    public nonisolated let endpoint = "memory"

    /// The jobs, by id.
    public private(set) var jobs: [Int64: Job] = [:]
    /// The events, in order.
    public private(set) var events: [Event] = []
    /// The workers and their last heartbeats.
    public private(set) var workers: [Int64: Date] = [:]
    /// What our workers claim, by worker id.
    private var registrations: [Int64: WorkerRegistration] = [:]
    /// Running jobs whose worker was removed: that worker, and its last heartbeat then.
    private var orphans: [Int64: (workerID: Int64, lastHeartbeat: Date)] = [:]
    private var periodicDefers: [PeriodicDefer] = []
    private var lastJobID: Int64 = 0
    private var lastEventID: Int64 = 0
    private var lastWorkerID: Int64 = 0
    /// Tells the time (the limits' windows read it too).
    let clock: @Sendable () -> Date
    private var listeners: [UUID: (queues: [String]?, notify: @Sendable (JobNotification) -> Void)] = [:]
    /// The limits of queues, tasks and keys, each with its latest starts (see
    /// `InMemoryConnector+Limits.swift`).
    var limits: [LimitTarget: LimitWindow] = [:]
    /// The limit key of each job deferred with one.
    var jobKeys: [Int64: String] = [:]
    /// The paused queues, and since when.
    var pausedSince: [String: Date] = [:]
    /// The errors of each job's failed attempts, oldest first.
    private var errors: [Int64: [JobError]] = [:]

    /// An empty store; `clock` tells the time (injectable for tests of delays).
    public init(clock: @escaping @Sendable () -> Date = { Date() }) {
        self.clock = clock
    }

    /// Forgets every job, event, worker and periodic deferral.
    public func reset() {
        jobs = [:]
        events = []
        workers = [:]
        registrations = [:]
        orphans = [:]
        periodicDefers = []
        limits = [:]
        jobKeys = [:]
        pausedSince = [:]
        errors = [:]
    }

    // MARK: Deferring

    public func deferJobs(_ newJobs: [NewJob]) throws -> [Int64] {
        var waitingLocks = Set(jobs.values.filter { $0.status == .todo }.compactMap(\.queueingLock))
        for job in newJobs {
            try InvalidQueueName.check(job.queue)
            if let key = job.limitKey {
                guard let keyLimit = job.keyLimit else {
                    throw ConfigurationError(description: "limit key '\(key)' of task '\(job.taskName)' comes without its limit")
                }
                try keyLimit.check(for: "key '\(key)'")
            }
            if let key = job.queueingLock {
                guard waitingLocks.insert(key).inserted else { throw AlreadyEnqueued(queueingLock: key) }
            }
        }
        let ids = newJobs.map(insert)
        for (job, id) in zip(newJobs, ids) {
            notify(.jobInserted(jobID: id), queue: job.queue)
        }
        return ids
    }

    private func insert(_ new: NewJob) -> Int64 {
        lastJobID += 1
        let job = Job(
            id: lastJobID, queue: new.queue, taskName: new.taskName, priority: new.priority, lock: new.lock,
            queueingLock: new.queueingLock, arguments: new.arguments, scheduledAt: new.scheduledAt
        )
        jobs[job.id] = job
        if let key = new.limitKey, let keyLimit = new.keyLimit {
            jobKeys[job.id] = key
            limits[.key(key), default: LimitWindow(limit: keyLimit)].limit = keyLimit
        }
        if let scheduledAt = job.scheduledAt {
            record("scheduled", for: job.id, at: scheduledAt)
        }
        record("deferred", for: job.id)
        return job.id
    }

    public func deferPeriodicJob(_ job: NewJob, periodicID: String, timestamp: Int64) throws -> Int64? {
        let sameSchedule = { (entry: PeriodicDefer) in entry.taskName == job.taskName && entry.periodicID == periodicID }
        let records = periodicDefers.filter(sameSchedule)
        guard PeriodicTickRecord.isDue(
            timestamp, oldestRecorded: records.map(\.timestamp).min(), recorded: records.contains { $0.timestamp == timestamp }
        ) else { return nil }
        let id = try deferJobs([NewJob(
            queue: job.queue, taskName: job.taskName, priority: job.priority, lock: job.lock,
            queueingLock: job.queueingLock, arguments: job.arguments
        )])[0]
        periodicDefers.removeAll { sameSchedule($0) && $0.timestamp < timestamp - PeriodicTickRecord.retention }
        periodicDefers.append(PeriodicDefer(taskName: job.taskName, periodicID: periodicID, timestamp: timestamp, jobID: id))
        return id
    }

    // MARK: Working

    public func fetchJob(queues: [String]?, workerID: Int64?) -> Job? {
        fetchJobs(queues: queues, workerID: workerID, limit: 1, taskNames: nil).first
    }

    public func fetchJobs(queues: [String]?, workerID: Int64?, limit: Int, taskNames: [String]?) -> [Job] {
        var fetched: [Job] = []
        let now = clock()
        while fetched.count < limit {
            let candidates = jobs.values.filter { job in
                job.status == .todo && (queues?.contains(job.queue) ?? true) && (taskNames?.contains(job.taskName) ?? true)
                    && (job.scheduledAt.map { $0 <= now } ?? true) && !isBlocked(job) && pausedSince[job.queue] == nil
                    && hasRoom(for: job, at: now)
            }
            guard var job = candidates.min(by: { ($0.priority, -$0.id) > ($1.priority, -$1.id) }) else { break }
            job.status = .doing
            job.workerID = workerID
            jobs[job.id] = job
            recordStart(of: job, at: now)
            record("started", for: job.id)
            fetched.append(job)
        }
        return fetched
    }

    /// The rule of `procrastinate_swift_next_scheduled_job_v2`: the earliest job scheduled, or
    /// rate window opening, later than `earliest`.
    public func nextScheduledJob(queues: [String]?, taskNames: [String]?, scheduledAfter earliest: Date) -> Duration? {
        let now = clock()
        let scheduled = jobs.values.lazy.filter { job in
            job.status == .todo && (queues?.contains(job.queue) ?? true) && (taskNames?.contains(job.taskName) ?? true)
        }.compactMap(\.scheduledAt)
        let next = (Array(scheduled) + windowOpenings(queues: queues, taskNames: taskNames)).filter { $0 > earliest }.min()
        return next.map { .milliseconds(Int64(($0.timeIntervalSince(now) * 1000).rounded(.up))) }
    }

    /// The rule of `procrastinate_swift_finish_jobs_and_fetch_v2`: the outcomes, then a claim;
    /// the room the outcomes free (a lock, a retry, a concurrency limit) and the claim did not take is
    /// announced to the listening workers.
    public func finishJobs(
        _ outcomes: [JobOutcome], thenFetch queues: [String]?, workerID: Int64?, limit: Int, taskNames: [String]?
    ) throws -> (leftAlone: [Int64], fetched: [Job]) {
        let freeing = outcomes.compactMap { outcome in
            recordable(outcome).flatMap { freesRoom($0, retried: outcome.retry != nil) ? $0.queue : nil }
        }
        let leftAlone = try finishJobs(outcomes)
        let fetched = fetchJobs(queues: queues, workerID: workerID, limit: limit, taskNames: taskNames)
        if fetched.count < freeing.count { notifyRoomFreed(in: Set(freeing)) }
        return (leftAlone, fetched)
    }

    /// The job of `outcome` if it still runs in the attempt the outcome names.
    private func recordable(_ outcome: JobOutcome) -> Job? {
        jobs[outcome.jobID].flatMap { job in job.status == .doing && (outcome.attempts.map { $0 == job.attempts } ?? true) ? job : nil }
    }

    /// The rule of `procrastinate_swift_finish_jobs_v3`: a job's end frees room when it had a
    /// lock, went back to the queue, or a concurrency limit counted it.
    private func freesRoom(_ job: Job, retried: Bool) -> Bool {
        job.lock != nil || retried || countsAgainstConcurrency(job)
    }

    /// `procrastinate_swift_notify_room_freed_v1`.
    private func notifyRoomFreed(in queues: Set<String>) {
        for queue in queues.sorted() { notify(.roomFreed(queue: queue), queue: queue) }
    }

    /// The rule of `procrastinate_swift_finish_jobs_v3`: each outcome of a job that still runs
    /// in the attempt it names is recorded (a retry as ``retryJob(id:at:priority:queue:lock:)``
    /// records it); the others are left alone.
    public func finishJobs(_ outcomes: [JobOutcome]) throws -> [Int64] {
        for case let queue? in outcomes.map(\.retry?.queue) {
            try InvalidQueueName.check(queue)
        }
        var leftAlone: [Int64] = []
        for outcome in outcomes {
            guard let job = recordable(outcome) else {
                leftAlone.append(outcome.jobID)
                continue
            }
            // The rule of procrastinate_swift_record_job_errors_v1: an attempt named, still running.
            if let cause = outcome.error, let attempts = outcome.attempts {
                errors[job.id, default: []].removeAll { $0.attempt == attempts + 1 }
                errors[job.id, default: []].append(JobError(attempt: attempts + 1, at: clock(), cause: cause))
            }
            if let retry = outcome.retry {
                try retryJob(id: job.id, at: retry.retryAt, priority: retry.priority, queue: retry.queue, lock: retry.lock)
            } else {
                try finishJob(id: job.id, status: outcome.status, deleteJob: outcome.deleteJob)
            }
        }
        return leftAlone
    }

    /// The lock rule of `procrastinate_fetch_job_v2`: another job of the same lock running,
    /// or waiting ahead (higher priority, or same priority and lower id), blocks `job`.
    private func isBlocked(_ job: Job) -> Bool {
        guard let lock = job.lock else { return false }
        return jobs.values.contains { other in
            other.id != job.id && other.lock == lock
                && (other.status == .doing
                    || (other.status == .todo
                        && (other.priority > job.priority || (other.priority == job.priority && other.id < job.id))))
        }
    }

    public func finishJob(id: Int64, status: JobStatus, deleteJob: Bool) throws {
        guard [.succeeded, .failed, .aborted].contains(status) else {
            throw InvalidJobState(jobID: id, reason: #"End status should be either "succeeded", "failed" or "aborted" (job id: \#(id))"#)
        }
        guard var job = jobs[id], job.status == .todo || job.status == .doing else {
            throw InvalidJobState(jobID: id, reason: #"Job was not found or not in "doing" or "todo" status (job id: \#(id))"#)
        }
        if deleteJob {
            delete(id)
            return
        }
        let previous = job.status
        if previous == .doing { job.attempts += 1 }
        job.abortRequested = false
        job.status = status
        jobs[id] = job
        recordTransition(of: id, from: previous, to: status)
    }

    public func retryJob(id: Int64, at date: Date, priority: Int?, queue: String?, lock: String?) throws {
        guard var job = jobs[id], job.status == .doing || job.status == .failed else {
            throw InvalidJobState(jobID: id, reason: "Job was not found or has an invalid status to retry (job id: \(id))")
        }
        let previous = job.status
        if previous == .doing && job.abortRequested {
            job.status = .failed
        } else {
            if let queue { try InvalidQueueName.check(queue) }
            job.status = .todo
            job.attempts += 1
            job.scheduledAt = date
            job.priority = priority ?? job.priority
            job.queue = queue ?? job.queue
            job.lock = lock ?? job.lock
            job.abortRequested = false
            record("scheduled", for: id, at: date)
        }
        jobs[id] = job
        recordTransition(of: id, from: previous, to: job.status)
        // procrastinate_swift_notify_room_freed_v1 (the trigger): a finished job back in the queue.
        if previous == .failed { notifyRoomFreed(in: [job.queue]) }
    }

    public func registerWorker(_ registration: WorkerRegistration) -> Int64 {
        lastWorkerID += 1
        workers[lastWorkerID] = clock()
        registrations[lastWorkerID] = registration
        return lastWorkerID
    }

    public func unregisterWorker(id: Int64) {
        removeWorkers([id])
    }

    public func updateHeartbeat(workerID: Int64) {
        if workers[workerID] != nil { workers[workerID] = clock() }
    }

    public func heartbeat(
        workerID: Int64, holding held: [HeldJob], registration: WorkerRegistration, strayGrace: Duration
    ) -> HeartbeatReply {
        let now = clock()
        let registeredAgain = workers[workerID] == nil
        workers[workerID] = now
        if registeredAgain { registrations[workerID] = registration }
        for job in held where orphans[job.id]?.workerID == workerID {
            guard let current = jobs[job.id], current.status == .doing, current.attempts == job.attempts, current.workerID == nil
            else { continue }
            jobs[job.id]?.workerID = workerID
            orphans[job.id] = nil
        }
        let lost = held.filter { job in
            guard let current = jobs[job.id] else { return true }
            return current.status != .doing || current.attempts != job.attempts || current.workerID != workerID
        }
        let heldIDs = Set(held.map(\.id))
        let graceLimit = now.addingTimeInterval(-(strayGrace / .seconds(1)))
        let strays = jobs.values.filter { job in
            job.workerID == workerID && job.status == .doing && !heldIDs.contains(job.id)
                && (events.last { $0.jobID == job.id && $0.type == "started" }?.at ?? .distantPast) < graceLimit
        }
        .map(\.id).sorted()
        for id in strays {
            jobs[id]?.status = .todo
            jobs[id]?.workerID = nil
            recordTransition(of: id, from: .doing, to: .todo)
        }
        return HeartbeatReply(registeredAgain: registeredAgain, lostJobIDs: lost.map(\.id).sorted(), releasedJobIDs: strays)
    }

    public func pruneStalledWorkers(olderThan seconds: Double) -> [Int64] {
        let limit = clock().addingTimeInterval(-seconds)
        let stalled = workers.filter { $0.value < limit }.map(\.key).sorted()
        removeWorkers(stalled)
        return stalled
    }

    /// Removes workers; their running jobs lose their worker and keep, as orphans, the worker
    /// and its last heartbeat (the trigger of `procrastinate_swift_orphaned_jobs`).
    private func removeWorkers(_ ids: [Int64]) {
        for id in ids {
            guard let lastHeartbeat = workers.removeValue(forKey: id) else { continue }
            registrations[id] = nil
            for (jobID, job) in jobs where job.workerID == id {
                jobs[jobID]?.workerID = nil
                if job.status == .doing { orphans[jobID] = (id, lastHeartbeat) }
            }
        }
    }

    public func jobIDsToAbort(queue: String?) -> [Int64] {
        jobs.values.filter { $0.status == .doing && $0.abortRequested && (queue == nil || $0.queue == queue) }
            .map(\.id).sorted()
    }

    public func recoverStalledJob(
        _ job: Job, staleAfter seconds: Double, excludingWorker excludedWorkerID: Int64?, decision: RetryDecision?
    ) throws -> Bool {
        guard let current = jobs[job.id], current.attempts == job.attempts,
            isStalled(current, seconds: seconds), excludedWorkerID == nil || owner(of: current)?.workerID != excludedWorkerID
        else { return false }
        if let decision {
            try retryJob(id: job.id, at: decision.retryAt, priority: decision.priority, queue: decision.queue, lock: decision.lock)
        } else {
            try finishJob(id: job.id, status: .failed, deleteJob: false)
        }
        orphans[job.id] = nil
        notifyRoomFreed(in: Set([current.queue, decision?.queue].compactMap { $0 }))
        return true
    }

    /// The worker a running job belongs to and its last sign of life (see
    /// `procrastinate_swift_job_owner_v1`).
    private func owner(of job: Job) -> (workerID: Int64, lastHeartbeat: Date)? {
        guard let workerID = job.workerID else { return orphans[job.id] }
        return workers[workerID].map { (workerID, $0) }
    }

    /// The stalled-job rule: running, and its owner silent for `seconds` (or no owner at all).
    private func isStalled(_ job: Job, seconds: Double) -> Bool {
        job.status == .doing && (owner(of: job)?.lastHeartbeat ?? .distantPast) < clock().addingTimeInterval(-seconds)
    }

    // MARK: Administration

    public func deleteJob(id: Int64) -> Bool {
        guard let job = jobs[id], job.status != .doing else { return false }
        delete(id)
        return true
    }

    public func cancelJob(id: Int64, abort: Bool, deleteJob: Bool) -> Int64? {
        guard var job = jobs[id] else { return nil }
        if deleteJob, job.status == .todo {
            delete(id)
            return id
        }
        if abort, job.status == .todo || job.status == .doing {
            let previous = job.status
            let alreadyRequested = job.abortRequested
            job.abortRequested = true
            if previous == .todo { job.status = .cancelled }
            jobs[id] = job
            record("abort_requested", for: id)
            recordTransition(of: id, from: previous, to: job.status)
            if previous == .todo, job.lock != nil { notifyRoomFreed(in: [job.queue]) }
            if previous == .doing, !alreadyRequested {
                notify(.abortRequested(jobID: id), queue: job.queue)
            }
            return id
        }
        guard !abort, job.status == .todo else { return nil }
        job.status = .cancelled
        jobs[id] = job
        recordTransition(of: id, from: .todo, to: .cancelled)
        if job.lock != nil { notifyRoomFreed(in: [job.queue]) }
        return id
    }

    public func jobStatus(id: Int64) -> JobStatus? {
        jobs[id]?.status
    }

    public func listJobs(_ filter: JobFilter) -> [Job] {
        jobs.values.filter(filter.matches).sorted { $0.id < $1.id }
    }

    public func jobErrors(ids: [Int64]) -> [Int64: [JobError]] {
        errors.filter { ids.contains($0.key) }
    }

    public func countJobs(by grouping: JobGrouping, _ filter: JobFilter) -> [JobCounts] {
        var counts: [String: [JobStatus: Int]] = [:]
        var criteria = filter
        criteria.id = nil
        criteria.queueingLock = nil
        criteria.workerID = nil
        for job in jobs.values where criteria.matches(job) {
            let name: String? = switch grouping {
            case .queue: job.queue
            case .task: job.taskName
            case .lock: job.lock
            }
            guard let name else { continue }
            counts[name, default: [:]][job.status, default: 0] += 1
        }
        return counts.keys.sorted().map { JobCounts(name: $0, byStatus: counts[$0]!) }
    }

    public func deleteOldJobs(olderThan seconds: Double, statuses: [JobStatus], queue: String?, after afterID: Int64, limit: Int) -> PruneBatch {
        let cutoff = clock().addingTimeInterval(-seconds)
        var latest: [Int64: Date] = [:]
        for event in events {
            if let at = event.at { latest[event.jobID] = max(latest[event.jobID] ?? at, at) }
        }
        let examined = jobs.keys.filter { $0 > afterID }.sorted().prefix(limit)
        let old = examined.compactMap { jobs[$0] }.filter { job in
            statuses.contains(job.status) && (queue == nil || job.queue == queue) && (latest[job.id].map { $0 < cutoff } ?? false)
        }
        old.forEach { delete($0.id) }
        return PruneBatch(deleted: old.count, lastExaminedID: examined.last)
    }

    public func stalledJobs(secondsSinceHeartbeat: Double, queue: String?, taskName: String?) -> [Job] {
        jobs.values.filter { job in
            isStalled(job, seconds: secondsSinceHeartbeat) && (queue == nil || job.queue == queue)
                && (taskName == nil || job.taskName == taskName)
        }
        .sorted { $0.id < $1.id }
    }

    public func listWorkers() -> [WorkerInfo] {
        workers.map { id, lastHeartbeat in
            let running = jobs.values.count { $0.workerID == id && $0.status == .doing }
            return WorkerInfo(id: id, lastHeartbeat: lastHeartbeat, registration: registrations[id], running: running)
        }
        .sorted { $0.id < $1.id }
    }

    public func isSchemaApplied() -> Bool { true }

    // MARK: Notifications

    public func listen(
        queues: [String]?, onReady: @escaping @Sendable () -> Void,
        onNotification: @escaping @Sendable (JobNotification) -> Void
    ) async throws {
        let id = UUID()
        listeners[id] = (queues, onNotification)
        onReady()
        defer { listeners[id] = nil }
        // Listen until cancelled.
        let waiter = AsyncStream<Never> { _ in }
        for await _ in waiter {}
    }

    /// Tells the listeners of `queue` (every listener, for freed room: see
    /// ``JobNotification/roomFreedChannel``).
    func notify(_ notification: JobNotification, queue: String) {
        let everyone = if case .roomFreed = notification { true } else { false }
        for listener in listeners.values where everyone || (listener.queues?.contains(queue) ?? true) {
            listener.notify(notification)
        }
    }

    // MARK: Bookkeeping

    private func delete(_ id: Int64) {
        jobs[id] = nil
        jobKeys[id] = nil
        errors[id] = nil
        orphans[id] = nil
        events.removeAll { $0.jobID == id }
        for index in periodicDefers.indices where periodicDefers[index].jobID == id {
            periodicDefers[index].jobID = nil
        }
    }

    private func record(_ type: String, for jobID: Int64, at: Date? = nil) {
        lastEventID += 1
        events.append(Event(id: lastEventID, jobID: jobID, type: type, at: at ?? clock()))
    }

    /// The event the status trigger writes for a transition, if any.
    private func recordTransition(of jobID: Int64, from old: JobStatus, to new: JobStatus) {
        let type: String? = switch (old, new) {
        case (.todo, .doing): "started"
        case (.doing, .todo): "deferred_for_retry"
        case (.doing, .failed): "failed"
        case (.doing, .succeeded): "succeeded"
        case (.todo, .cancelled), (.todo, .failed), (.todo, .succeeded): "cancelled"
        case (.doing, .aborted): "aborted"
        case (.failed, .todo): "retried"
        default: nil
        }
        if let type { record(type, for: jobID) }
    }
}
