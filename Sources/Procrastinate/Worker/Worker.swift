import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Fetches jobs and runs them, at most `concurrency` at a time: a swift-service-lifecycle
/// `Service`, so it runs in a `ServiceGroup` beside an HTTP server or a `PostgresClient`, and
/// stops gracefully with it.
///
/// ```swift
/// let worker = Worker(app: app, options: WorkerOptions(queues: ["emails"], concurrency: 10))
/// let group = ServiceGroup(services: [postgresClient, worker], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
///
/// It wakes up on NOTIFY (one dedicated listening connection, reconnected with backoff) and
/// polls as a fallback. On a graceful shutdown it stops fetching, lets running jobs finish for
/// `shutdownGracefulTimeout`, then aborts them (reason: shutdown). It registers itself,
/// sends heartbeats, and recovers the jobs of workers that stopped sending theirs.
///
/// Its heartbeats hold its lease on the jobs it claimed: a worker pruned while it was paused
/// or cut off registers again under its id and takes its jobs back; one whose jobs were
/// recovered meanwhile stops them (``AbortReason/lost``), and their outcomes are not recorded
/// over the new attempts'.
public final class Worker: Service, CustomStringConvertible {
    /// The app whose tasks the worker runs.
    public let app: App
    /// How it runs.
    public let options: WorkerOptions
    let logger: Logger
    let metrics: WorkerMetrics
    /// What this worker claims, as recorded in the database: its app's tasks when it was made
    /// (with the built-in ones), or every task with `claimUnknownTasks`. Made once, not at every
    /// claim.
    private let registration: WorkerRegistration
    /// Writes finished jobs' outcomes, in batches.
    let outcomes: OutcomeWriter
    /// How many job bodies run now.
    private let bodies = BodyCount()
    private let state: Mutex<State>
    /// Sent when a job may be waiting: a notification, a stop request.
    private let wake = Signal()
    /// Sent when a running job ended.
    private let jobEnded = Signal()
    /// Sent when the worker's registration turned out to be gone: a heartbeat registers it again.
    private let heartbeatNow = Signal()
    /// Sent when a stop is requested: a fetch under way is abandoned.
    private let stopSignal = Signal()
    /// Sent when the worker woke up and found nothing to run: ``wakeWhenScheduledJobsAreDue()``
    /// asks when the next scheduled job is due, beside the fetch loop's wait.
    private let foundNothing = Signal()

    /// How old a claim of this worker's must be before a heartbeat puts it back in the queue
    /// when the worker does not hold its job (the answer to the claim was lost): longer than
    /// any claim may take to reach the worker.
    static let strayGrace = Duration.seconds(60)

    /// A job claimed by this worker, until its outcome is recorded.
    private struct Held {
        /// Its attempts when claimed.
        var attempts: Int
        /// Whether its outcome was handed to the writer (whose writes are fenced).
        var recording = false
    }

    private struct State {
        var stopRequested = false
        var workerID: Int64?
        var listening = false
        /// Jobs holding a slot, by id.
        var running: [Int64: AbortState] = [:]
        /// Jobs claimed whose outcomes are not recorded yet: what the heartbeat holds.
        var held: [Int64: Held] = [:]
        /// Held jobs that another worker recovered: their outcomes are not recorded.
        var lost: Set<Int64> = []
        /// Whether the database has been answering, for stalled-job recovery.
        var contact: DatabaseContact
        /// An error that no retry can heal (the app closed, the schema missing): the worker
        /// stops and throws it.
        var fatal: (any Error)?
        /// Jobs whose slot was freed while their outcome is being written.
        var ending = 0
        /// Jobs whose outcome was written, ever: a fetch that began before one was may have
        /// missed its retry.
        var ended = 0
        /// When the latest fetch that followed a wake-up and found nothing began: a job due
        /// since then was not found by it.
        var foundNothingSince: ContinuousClock.Instant?
    }

    /// A worker for `app`'s tasks.
    public init(app: App, options: WorkerOptions = WorkerOptions()) {
        self.app = app
        self.options = options
        var logger = app.logger
        logger[metadataKey: "worker"] = "\(options.name)"
        self.logger = logger
        self.metrics = WorkerMetrics()
        self.registration = WorkerRegistration(
            name: options.name, queues: options.queues,
            taskNames: options.claimUnknownTasks ? nil : app.taskNames + BuiltinTasks.names
        )
        // Heartbeats answer every interval (plus their round trip): answers further apart mean
        // the database was out of reach in between.
        self.state = Mutex(State(contact: DatabaseContact(maxGap: max(options.updateHeartbeatInterval * 2, .seconds(1)))))
        self.outcomes = OutcomeWriter(connector: app.connector, logger: logger, window: options.fetchCoalescingWindow) { [bodies] in
            bodies.any
        }
    }

    public var description: String { "Worker(\(options.name))" }

    /// The worker's row in `procrastinate_workers`, while it runs.
    public var workerID: Int64? { state.withLock { $0.workerID } }

    /// Whether notifications reach the worker now (its LISTEN is active).
    public var isListening: Bool { state.withLock { $0.listening } }

    /// The ids of the jobs running now.
    public var runningJobIDs: [Int64] { state.withLock { $0.running.keys.sorted() } }

    /// Runs until stopped: by a graceful shutdown of its service group, by ``stop()``, by
    /// cancellation, or (with `wait: false`) when no job can be fetched.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await work()
        } onGracefulShutdown: { [self] in
            stop()
        }
    }

    /// Stops fetching; running jobs finish (up to the graceful timeout) and the worker returns.
    public func stop() {
        let first = state.withLock { state in
            defer { state.stopRequested = true }
            return !state.stopRequested
        }
        if first {
            logger.info("Stop requested", metadata: ["action": "stopping_worker"])
        }
        outcomes.stopping()
        wake.send()
        jobEnded.send()
        stopSignal.send()
    }

    private var isStopping: Bool { state.withLock { $0.stopRequested } }

    /// The tasks whose jobs this worker claims (nil: every task).
    private var claimedTaskNames: [String]? { registration.taskNames }

    private func work() async throws {
        let connector = app.connector
        let pruned = try await connector.pruneStalledWorkers(olderThan: options.stalledWorkerTimeout.seconds)
        if !pruned.isEmpty {
            logger.info("Pruned stalled workers \(pruned)", metadata: ["action": "prune_stalled_workers"])
        }
        let workerID = try await connector.registerWorker(registration)
        state.withLock { state in
            state.workerID = workerID
            state.contact.answered(at: .now)
        }
        let queues = options.queues.map { $0.joined(separator: ", ") } ?? "all queues"
        logger.info(
            "Starting worker on \(queues)",
            metadata: ["action": "start_worker", "worker_id": "\(workerID)", "concurrency": "\(options.concurrency)"]
        )

        await withTaskGroup(of: Void.self) { sideTasks in
            sideTasks.addTask { await self.sendHeartbeats(workerID: workerID) }
            if options.listenNotify, let notifying = connector as? any NotifyingConnector {
                sideTasks.addTask { await self.listen(notifying) }
            }
            sideTasks.addTask { await self.pollAbortRequests() }
            sideTasks.addTask { await self.wakeWhenScheduledJobsAreDue() }
            if let threshold = options.stalledJobRecoveryThreshold {
                sideTasks.addTask { await self.recoverStalledJobs(threshold: threshold, workerID: workerID) }
            }
            if options.runsPeriodicDeferrer {
                let deferrer = PeriodicDeferrer(
                    app: app, tasks: app.periodicTasks, clock: options.periodicClock, maxDelay: options.periodicMaxDelay,
                    catchUp: options.periodicCatchUp, logger: logger
                )
                sideTasks.addTask { await deferrer.run() }
            }
            // A discarding group: a long-running worker must not keep every finished job's task.
            await withDiscardingTaskGroup { jobs in
                await fetchJobs(workerID: workerID, into: &jobs)
                await finishRunningJobs()
            }
            // Jobs hand their outcomes over and end; the worker ends once they are written (its
            // heartbeats go on meanwhile, holding their jobs), or given up.
            await outcomes.drain()
            sideTasks.cancelAll()
        }

        // Unregistering must happen even when the worker was cancelled; the connector bounds it.
        let unregistered = await Task { try await connector.unregisterWorker(id: workerID) }.result
        if case .failure(let error) = unregistered {
            logger.warning("Could not unregister the worker: \(error)", metadata: ["action": "stop_worker"])
        }
        let fatal = state.withLock { state in
            state.workerID = nil
            return state.fatal
        }
        logger.info("Stopped worker", metadata: ["action": "stop_worker", "worker_id": "\(workerID)"])
        if let fatal { throw fatal }
    }

    // MARK: Fetching

    /// Claims as many jobs as there are free slots in one round trip, and starts them.
    private func fetchJobs(workerID: Int64, into jobs: inout DiscardingTaskGroup) async {
        var failures = 0
        var roundTrip = Duration.zero
        var backlog = false
        // Whether this fetch follows a wake-up (a notification, a retry written, the poll, the
        // start) rather than jobs ending: finding nothing then may mean a job scheduled for
        // later came, so the worker asks when it is due.
        var afterWake = true
        while !isStopping && !Task.isCancelled {
            var free = options.concurrency - state.withLock { $0.running.count }
            guard free > 0 else {
                await jobEnded.wait()
                continue
            }
            // Right after a full batch (so jobs are likely waiting), slots that free up together
            // are claimed together.
            if backlog && free < options.concurrency && options.fetchCoalescingWindow > .zero {
                free = await moreFreeSlots(within: min(roundTrip, options.fetchCoalescingWindow))
            }
            let endedBeforeFetch = state.withLock { $0.ended }
            let fetched: [Job]
            let started = ContinuousClock.now
            do {
                let (connector, queues, taskNames, limit) = (app.connector, options.queues, claimedTaskNames, free)
                fetched = try await untilStopped {
                    try await connector.fetchJobs(queues: queues, workerID: workerID, limit: limit, taskNames: taskNames)
                }
                roundTrip = ContinuousClock.now - started
                backlog = fetched.count == free
                failures = 0
            } catch {
                guard !isStopping else { break }
                if error is AppNotOpen || error is SchemaError {
                    logger.critical("The worker stops: \(error)", metadata: ["action": "worker_failed"])
                    state.withLock { $0.fatal = error }
                    stop()
                    break
                }
                failures += 1
                if (error as? DatabaseError)?.sqlState == "23503" {
                    // procrastinate_jobs_worker_id_fkey: this worker's row was pruned.
                    logger.warning(
                        "This worker's registration is gone (pruned while it was paused or cut off); registering again",
                        metadata: ["action": "registration_gone"]
                    )
                    heartbeatNow.send()
                } else {
                    logger.error("Fetching jobs failed: \(error)", metadata: ["action": "fetch_job_failed"])
                }
                if (error as? DatabaseError)?.isTransient ?? false {
                    state.withLock { $0.contact.lost() }
                }
                // A one-shot worker gives up rather than retrying forever.
                if !options.wait && failures >= 10 { break }
                await wake.wait(upTo: min(options.fetchJobPollingInterval, .milliseconds(100 << min(failures, 6))))
                continue
            }
            guard !fetched.isEmpty else {
                // A one-shot worker looks again once its running jobs ended and their outcomes
                // are written: a retry makes a job available again.
                if !options.wait, state.withLock({ $0.ending > 0 || !$0.running.isEmpty || $0.ended != endedBeforeFetch }) {
                    await jobEnded.wait()
                    continue
                }
                if !options.wait { break }
                if afterWake {
                    state.withLock { $0.foundNothingSince = started }
                    foundNothing.send()
                }
                await wake.wait(upTo: options.fetchJobPollingInterval)
                afterWake = true
                continue
            }
            afterWake = false
            for job in fetched {
                let abort = AbortState()
                state.withLock { state in
                    state.running[job.id] = abort
                    state.held[job.id] = Held(attempts: job.attempts)
                }
                bodies.started()
                jobs.addTask { await self.run(job, abort: abort) }
            }
        }
    }

    /// Wakes the idle worker when the earliest job it may run that is scheduled for later is
    /// due (a retry's next attempt, a job deferred with a delay), not at its next poll: each
    /// time the worker woke up and found nothing to run, asks the database when that is, and
    /// waits until then (or until that happens again, which may mean an earlier one). Runs
    /// beside the fetch loop, so that the question never delays a fetch; a worker busy with
    /// jobs that keep coming does not ask. (A scheduled job whose notification arrived together
    /// with a runnable job's waits for the next poll at the latest.)
    private func wakeWhenScheduledJobsAreDue() async {
        let (connector, queues, taskNames) = (app.connector, options.queues, claimedTaskNames)
        var asked = false
        while !isStopping && !Task.isCancelled {
            if !asked { await foundNothing.wait() }
            asked = false
            let due: Duration?
            do {
                let since = ContinuousClock.now - (state.withLock { $0.foundNothingSince } ?? .now)
            due = try await connector.nextScheduledJob(queues: queues, taskNames: taskNames, dueWithin: since)
            } catch {
                logger.debug("Could not read when the next scheduled job is due: \(error)", metadata: ["action": "next_scheduled_job_failed"])
                continue
            }
            guard let due, due < options.fetchJobPollingInterval else { continue }
            // Found nothing again meanwhile: ask again, a job due sooner may have come.
            asked = due > .zero ? await foundNothing.wait(upTo: due) : false
            if !asked { wake.send() }
        }
    }

    /// Runs `job` in the current task, then the jobs its slot is handed.
    ///
    /// A job without a lock frees its slot as soon as its body ended, so that the next claim
    /// overlaps the writing of its outcome. A locked job keeps its slot until then: its lock's
    /// next job cannot be claimed before. Its outcome's transaction claims a job for the slot
    /// (see ``OutcomeWriter``), which runs next in this task: the next job of a lock starts
    /// one round trip sooner.
    private func run(_ job: Job, abort: AbortState) async {
        var next: (job: Job, abort: AbortState)? = (job, abort)
        while let (job, abort) = next {
            let freesEarly = job.lock == nil
            let outcome = await JobRun(worker: self, job: job, abort: abort).run {
                bodies.ended()
                if freesEarly {
                    state.withLock { state in
                        state.running.removeValue(forKey: job.id)
                        state.ending += 1
                    }
                }
                jobEnded.send()
            }
            let lost = state.withLock { state in
                if state.lost.remove(job.id) != nil { return true }
                state.held[job.id]?.recording = true
                return false
            }
            if lost {
                logger.warning(
                    "Job \(job.id) ended here after another worker recovered it; its outcome was not recorded",
                    metadata: ["action": "lost_job_ended", "job_id": "\(job.id)"]
                )
                next = ended(job, freedEarly: freesEarly, successor: nil)
                continue
            }
            // An idle worker learns when the retry is due (its wait may end after that).
            let wakeAfterwards = outcome.retry != nil ? wake : nil
            if freesEarly {
                outcomes.submit(outcome) { _ in
                    _ = self.ended(job, freedEarly: true, successor: nil)
                    wakeAfterwards?.send()
                }
                next = nil
            } else {
                let successor = await withCheckedContinuation { written in
                    outcomes.submit(outcome, claim: successorClaim) { [bodies] successor in
                        // Counted before the writer looks again, so that it waits for this
                        // body too: the lock chains it wrote together stay together.
                        if successor != nil { bodies.started() }
                        written.resume(returning: successor)
                    }
                }
                next = ended(job, freedEarly: false, successor: successor)
                wakeAfterwards?.send()
            }
        }
    }

    /// Runs `operation` until it returns, or until a stop is requested (it is then cancelled,
    /// and CancellationError thrown): a stopping worker does not wait for a database that does
    /// not answer. A claim cut short this way may have been committed; the jobs it claimed go
    /// back to the queue with the worker's registration (stalled-job recovery).
    private func untilStopped<Result: Sendable>(_ operation: @escaping @Sendable () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask { try await operation() }
            group.addTask { [stopSignal, weak self] in
                while self?.isStopping == false, !Task.isCancelled { await stopSignal.wait() }
                return nil
            }
            defer { group.cancelAll() }
            guard let result = try await group.next() ?? nil else { throw CancellationError() }
            return result
        }
    }

    /// Where a slot freed by a written outcome claims its next job; nil once stopping or
    /// cancelled (the job would only be aborted).
    private var successorClaim: OutcomeWriter.SuccessorClaim? {
        guard !Task.isCancelled else { return nil }
        return state.withLock { state in
            guard !state.stopRequested, let workerID = state.workerID else { return nil }
            return OutcomeWriter.SuccessorClaim(queues: options.queues, workerID: workerID, taskNames: claimedTaskNames)
        }
    }

    /// Once `job`'s outcome was written: its slot is freed, or taken by `successor` (whose body
    /// was counted as started already), which is returned with its abort state.
    private func ended(_ job: Job, freedEarly: Bool, successor: Job?) -> (job: Job, abort: AbortState)? {
        let next = successor.map { (job: $0, abort: AbortState()) }
        state.withLock { state in
            if freedEarly { state.ending -= 1 } else { state.running.removeValue(forKey: job.id) }
            state.held.removeValue(forKey: job.id)
            if let next {
                state.running[next.job.id] = next.abort
                state.held[next.job.id] = Held(attempts: next.job.attempts)
            }
            state.ended += 1
        }
        jobEnded.send()
        return next
    }

    /// Waits up to `window` for the bodies running now to end; returns how many slots are
    /// free then. Fetching for the first freed slot alone would make the others wait for that
    /// fetch anyway, and cost a round trip more: jobs that end together (a batch of short
    /// jobs) are claimed together. Slots held while an outcome is written (locked jobs) are
    /// not waited for: they free up with the write, not soon.
    private func moreFreeSlots(within window: Duration) async -> Int {
        let deadline = ContinuousClock.now + window
        while bodies.any, ContinuousClock.now < deadline, !isStopping {
            await jobEnded.wait(upTo: deadline - ContinuousClock.now)
        }
        return options.concurrency - state.withLock { $0.running.count }
    }

    /// After fetching stopped: running jobs finish, aborted when the graceful timeout passes
    /// or at once when the worker was cancelled. The group then waits for them to end.
    private func finishRunningJobs() async {
        // However the worker ends (stopped, cancelled, or a one-shot worker out of jobs), its
        // shutdown is bounded: outcomes that keep failing are given up.
        outcomes.stopping()
        if Task.isCancelled {
            abortRunningJobs(.shutdown)
        } else if let timeout = options.shutdownGracefulTimeout, isStopping {
            let deadline = ContinuousClock.now + timeout
            while state.withLock({ !$0.running.isEmpty }), ContinuousClock.now < deadline, !Task.isCancelled {
                await jobEnded.wait(upTo: deadline - ContinuousClock.now)
            }
            abortRunningJobs(.shutdown)
        }
    }

    private func abortRunningJobs(_ reason: AbortReason) {
        let running = state.withLock { $0.running }
        for (id, abort) in running where abort.request(reason) {
            logger.info("Aborting job \(id) (\(reason.rawValue))", metadata: ["action": "abort_job", "job_id": "\(id)"])
        }
    }

    /// Asks a running job to abort; returns whether it runs here.
    @discardableResult
    func requestAbort(ofJob id: Int64) -> Bool {
        guard let abort = state.withLock({ $0.running[id] }) else { return false }
        if abort.request(.userRequest) {
            logger.info("Aborting job \(id) on request", metadata: ["action": "abort_job", "job_id": "\(id)"])
        }
        return true
    }

    // MARK: Side tasks

    /// Sends a heartbeat every `updateHeartbeatInterval` (at once when the registration turned
    /// out to be gone), holding the jobs claimed and not yet recorded.
    private func sendHeartbeats(workerID: Int64) async {
        while !Task.isCancelled {
            await heartbeatNow.wait(upTo: options.updateHeartbeatInterval)
            guard !Task.isCancelled else { return }
            let held = state.withLock { $0.held.map { HeldJob(id: $0.key, attempts: $0.value.attempts) } }
            do {
                let reply = try await app.connector.heartbeat(
                    workerID: workerID, holding: held, registration: registration, strayGrace: Self.strayGrace
                )
                state.withLock { $0.contact.answered(at: .now) }
                handle(reply, workerID: workerID, held: held)
            } catch {
                state.withLock { $0.contact.lost() }
                logger.warning("Heartbeat failed: \(error)", metadata: ["action": "heartbeat_failed"])
            }
        }
    }

    /// Acts on what a heartbeat holding `held` learnt: a registration made again, jobs lost to
    /// recovery (stopped here), claims that never reached this worker (put back in the queue).
    ///
    /// A held job the heartbeat calls lost may have been recorded by this worker meanwhile (or
    /// claimed again, in another attempt): only a job still held in the same attempt, its
    /// outcome not handed to the writer, is stopped; the writer's fence covers the others.
    private func handle(_ reply: HeartbeatReply, workerID: Int64, held: [HeldJob]) {
        if reply.registeredAgain {
            logger.warning(
                "This worker's registration was gone (another worker pruned it while this one was paused or cut off); registered again as worker \(workerID), holding its \(held.count) jobs",
                metadata: ["action": "worker_registered_again", "worker_id": "\(workerID)"]
            )
        }
        let attempts = Dictionary(held.map { ($0.id, $0.attempts) }, uniquingKeysWith: { first, _ in first })
        for id in reply.lostJobIDs {
            let (lost, abort) = state.withLock { state -> (Bool, AbortState?) in
                guard let job = state.held[id], job.attempts == attempts[id], !job.recording else { return (false, nil) }
                state.held.removeValue(forKey: id)
                state.lost.insert(id)
                return (true, state.running[id])
            }
            guard lost else { continue }
            abort?.request(.lost)
            logger.error(
                "Job \(id) was recovered by another worker while this one was paused or cut off: it is stopped here, and its outcome will not be recorded",
                metadata: ["action": "job_lost", "job_id": "\(id)"]
            )
        }
        if !reply.releasedJobIDs.isEmpty {
            logger.warning(
                "Jobs \(reply.releasedJobIDs) were claimed for this worker but never reached it; they were put back in the queue",
                metadata: ["action": "claims_released"]
            )
        }
    }

    /// Listens for notifications, reconnecting with backoff (from 100 ms, doubling up to 1 s,
    /// and from 100 ms again once listening worked); after each (re)connection a fetch pass
    /// runs, since notifications sent meanwhile are lost.
    private func listen(_ connector: any NotifyingConnector) async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                try await connector.listen(queues: options.queues) { [self] in
                    state.withLock { $0.listening = true }
                    wake.send()
                } onNotification: { [self] notification in
                    switch notification {
                    case .jobInserted: wake.send()
                    case .abortRequested(let id): requestAbort(ofJob: id)
                    }
                }
            } catch {
                logger.warning("Listening for notifications failed, reconnecting in \(backoff): \(error)", metadata: ["action": "listen_failed"])
            }
            let wasListening = state.withLock { state in
                defer { state.listening = false }
                return state.listening
            }
            guard !Task.isCancelled else { return }
            if wasListening { backoff = .milliseconds(100) }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(1))
        }
    }

    /// Asks the database for abort requests while jobs run (notifications may be off or lost).
    private func pollAbortRequests() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: options.abortJobPollingInterval)
            guard !Task.isCancelled, state.withLock({ !$0.running.isEmpty }) else { continue }
            do {
                for id in try await app.connector.jobIDsToAbort(queue: nil) {
                    requestAbort(ofJob: id)
                }
            } catch {
                logger.warning("Polling for abort requests failed: \(error)", metadata: ["action": "poll_jobs_to_abort_error"])
            }
        }
    }

    /// Recovers the running jobs of workers silent for `threshold` (never this worker's own),
    /// once this worker has itself been in touch with the database for that long.
    private func recoverStalledJobs(threshold: Duration, workerID: Int64) async {
        let interval = max(min(threshold / 2, .seconds(60)), .milliseconds(200))
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled, state.withLock({ $0.contact.hasLasted(threshold, at: .now) }) else { continue }
            do {
                for job in try await app.connector.stalledJobs(secondsSinceHeartbeat: threshold.seconds, queue: nil, taskName: nil) {
                    guard state.withLock({ $0.held[job.id] == nil }) else { continue }
                    let decision = recoveryDecision(for: job)
                    guard try await app.connector.recoverStalledJob(
                        job, staleAfter: threshold.seconds, excludingWorker: workerID, decision: decision
                    ) else { continue }
                    logger.warning(
                        "Recovered stalled job \(job.callString): \(decision == nil ? "failed" : "retried")",
                        metadata: ["action": "recover_stalled_job", "job_id": "\(job.id)", "task": "\(job.taskName)"]
                    )
                }
            } catch {
                logger.warning("Recovering stalled jobs failed: \(error)", metadata: ["action": "recover_stalled_jobs_error"])
            }
        }
    }

    /// A stalled job runs again as its task's retry strategy says (``JobStalled`` as the
    /// error), or else as ``WorkerOptions/stalledJobs`` says; nil: it fails.
    func recoveryDecision(for job: Job, now: Date = Date()) -> RetryDecision? {
        if let policy = app.task(named: job.taskName)?.options.retry {
            return policy.retryDecision(for: JobStalled(), attempts: job.attempts, now: now)
        }
        switch options.stalledJobs {
        case .retry(let retries) where job.attempts < retries: return RetryDecision(retryAt: now)
        case .retry, .fail: return nil
        }
    }
}

extension App {
    /// Opens the connector and runs a worker until SIGINT or SIGTERM (or, with `wait: false`,
    /// until the queues are empty).
    public func runWorker(_ options: WorkerOptions = WorkerOptions()) async throws {
        try await run {
            try await workUntilStopped(options)
        }
    }

    /// Runs a worker until SIGINT or SIGTERM (or, with `wait: false`, until the queues are
    /// empty); the connector must be open.
    public func workUntilStopped(_ options: WorkerOptions) async throws {
        let worker = Worker(app: self, options: options)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }
}

/// How many job bodies run now: the worker waits for them before fetching, its outcome
/// writer before writing, so that jobs ending together are claimed and recorded together.
final class BodyCount: Sendable {
    private let count = Atomic(0)

    func started() { count.add(1, ordering: .relaxed) }
    func ended() { count.subtract(1, ordering: .relaxed) }

    /// Whether any runs.
    var any: Bool { count.load(ordering: .relaxed) > 0 }
}
