import Foundation
import Logging
public import ServiceLifecycle
import Synchronization
import UnixSignals

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
/// Its whole life (slots, claims, outcome writes, stop rules) is decided by one pure state
/// machine, `WorkerStateMachine`; this type performs what it says and feeds it events.
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
    private let state: Mutex<State>
    /// Sent when the worker's registration turned out to be gone: a heartbeat registers it again.
    private let heartbeatNow = Signal()
    /// The only clock the worker reads (``WorkerOptions/clock``).
    private let clock: any WorkerClock

    /// How old a claim of this worker's must be before a heartbeat puts it back in the queue
    /// when the worker does not hold its job (the answer to the claim was lost): longer than
    /// any claim may take to reach the worker.
    static let strayGrace = Duration.seconds(60)
    /// How often a continuing database outage is logged again.
    static let outageReminder = Duration.seconds(30)

    /// The state machine, which owns every decision, and what its driver keeps beside it.
    private struct State {
        var machine: WorkerStateMachine
        /// How to abort each job whose body runs: made when the machine starts the job.
        var aborts: [Int64: AbortState] = [:]
        /// What has been said of the current database outage, if any.
        var outage = OutageReport(reminder: Worker.outageReminder)
        /// Where actions that need a task of their own go, while the engine runs.
        var spawn: AsyncStream<WorkerStateMachine.Action>.Continuation?
    }

    /// A worker for `app`'s tasks.
    public init(app: App, options: WorkerOptions = WorkerOptions()) {
        self.app = app
        self.options = options
        var logger = app.logger
        logger[metadataKey: "worker"] = "\(options.name)"
        self.logger = logger
        self.metrics = WorkerMetrics()
        self.clock = options.clock
        self.registration = WorkerRegistration(
            name: options.name, queues: options.queues,
            taskNames: options.claimUnknownTasks ? nil : app.taskNames + BuiltinTasks.names
        )
        let configuration = WorkerStateMachine.Configuration(
            concurrency: options.concurrency, waitsForJobs: options.wait, pollInterval: options.fetchJobPollingInterval,
            coalescingWindow: options.fetchCoalescingWindow, gracefulTimeout: options.shutdownGracefulTimeout
        )
        // Heartbeats answer every interval (plus their round trip): answers further apart mean
        // the database was out of reach in between.
        let contact = DatabaseContact(maxGap: max(options.updateHeartbeatInterval * 2, .seconds(1)))
        self.state = Mutex(State(machine: WorkerStateMachine(configuration: configuration, contact: contact)))
    }

    public var description: String { "Worker(\(options.name))" }

    /// The worker's row in `procrastinate_workers`, while it runs.
    public var workerID: Int64? { state.withLock { $0.machine.workerID } }

    /// Whether notifications reach the worker now (its LISTEN is active).
    public var isListening: Bool { state.withLock { $0.machine.isListening } }

    /// The ids of the jobs running now.
    public var runningJobIDs: [Int64] { state.withLock { $0.machine.runningJobIDs } }

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
        let first = state.withLock { !$0.machine.isStopping }
        if first {
            logger.info("Stop requested", metadata: ["action": "stopping_worker"])
        }
        post(.stopRequested(at: clock.now))
    }

    private var isStopping: Bool { state.withLock { $0.machine.isStopping } }

    /// The tasks whose jobs this worker claims (nil: every task).
    private var claimedTaskNames: [String]? { registration.taskNames }

    private func work() async throws {
        let connector = app.connector
        let pruned = try await connector.pruneStalledWorkers(olderThan: options.stalledWorkerTimeout.seconds)
        if !pruned.isEmpty {
            logger.info("Pruned stalled workers \(pruned)", metadata: ["action": "prune_stalled_workers"])
        }
        let workerID = try await connector.registerWorker(registration)
        for (target, limit) in app.declaredLimits {
            try await connector.setLimit(limit, for: target)
        }
        let queues = options.queues.map { $0.joined(separator: ", ") } ?? "all queues"
        logger.info(
            "Starting worker on \(queues)",
            metadata: ["action": "start_worker", "worker_id": "\(workerID)", "concurrency": "\(options.concurrency)"]
        )

        // Made before the side tasks, whose events may ask for actions (a stop may even finish
        // the machine) before the engine runs.
        let (actions, spawn) = AsyncStream.makeStream(of: WorkerStateMachine.Action.self)
        state.withLock { $0.spawn = spawn }
        await withTaskGroup(of: Void.self) { sideTasks in
            sideTasks.addTask { await self.sendHeartbeats(workerID: workerID) }
            if options.listenNotify, let notifying = connector as? any NotifyingConnector {
                sideTasks.addTask { await self.listen(notifying) }
            }
            sideTasks.addTask { await self.pollAbortRequests() }
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
            // The engine runs in a task of its own: cancelling the worker reaches it as an
            // event (its jobs are aborted, their outcomes still written), not as the
            // cancellation of every claim, write and timer at once. Its heartbeats go on
            // meanwhile, holding its jobs.
            let engine = Task { await self.runEngine(workerID: workerID, actions: actions) }
            await withTaskCancellationHandler {
                await engine.value
            } onCancel: {
                self.post(.cancelled(at: self.clock.now))
            }
            sideTasks.cancelAll()
        }

        // Unregistering must happen even when the worker was cancelled; the connector bounds it.
        let unregistered = await Task { try await connector.unregisterWorker(id: workerID) }.result
        if case .failure(let error) = unregistered {
            logger.warning("Could not unregister the worker: \(error)", metadata: ["action": "stop_worker"])
        }
        let fatal = state.withLock { $0.machine.fatal }
        logger.info("Stopped worker", metadata: ["action": "stop_worker", "worker_id": "\(workerID)"])
        if let fatal { throw fatal }
    }

    // MARK: Driving the state machine

    /// Runs the state machine's actions until it finishes: those that await (a claim, a job,
    /// a write) in tasks of a discarding group (a long-running worker must not keep every
    /// finished job's task), each task going on with what its own action led to. The group is
    /// cancelled only once the machine finished (to end the timers left); the worker's own
    /// cancellation reaches the machine as an event.
    private func runEngine(workerID: Int64, actions: AsyncStream<WorkerStateMachine.Action>) async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.drive(.registered(workerID: workerID, at: self.clock.now)) }
            for await action in actions {
                if case .wake(let instant) = action {
                    group.addTask {
                        guard (try? await self.clock.sleep(until: instant)) != nil else { return }
                        // The instant asked for came, even if the clock read a hair earlier (a
                        // sleep may end within its clock's tolerance): the machine must see it
                        // reached, or it would wait for a timer that no longer exists.
                        await self.drive(.timer(at: max(self.clock.now, instant)))
                    }
                } else {
                    group.addTask { await self.drive(after: action) }
                }
            }
            // Finished: nothing runs; timers left are of no use.
            group.cancelAll()
        }
    }

    /// Gives `event` to the state machine, and performs what it says: the first action that
    /// awaits in this task (then the event it leads to, and so on), the others in tasks of
    /// their own.
    private func drive(_ first: WorkerStateMachine.Event) async {
        var event = first
        while true {
            var inline: WorkerStateMachine.Action?
            for action in handle(event) {
                if Self.awaits(action), inline == nil {
                    inline = action
                } else {
                    perform(action)
                }
            }
            guard let inline else { return }
            // An abort cancels the task its job's body ran in: what follows (the outcome's
            // write, the next job) goes to a task of its own, which nothing cancelled.
            guard !Task.isCancelled else {
                perform(inline)
                return
            }
            event = await performAwaiting(inline)
        }
    }

    /// Performs `action` in this task, then drives what follows.
    private func drive(after action: WorkerStateMachine.Action) async {
        await drive(performAwaiting(action))
    }

    /// Gives `event` to the state machine from a task that must not wait (a callback, a side
    /// task): every action that awaits gets a task of its own.
    private func post(_ event: WorkerStateMachine.Event) {
        for action in handle(event) { perform(action) }
    }

    private func handle(_ event: WorkerStateMachine.Event) -> [WorkerStateMachine.Action] {
        state.withLock { state in
            if case .bodyEnded(let outcome, _) = event { state.aborts[outcome.jobID] = nil }
            let actions = state.machine.handle(event)
            for case .start(let job) in actions { state.aborts[job.id] = AbortState() }
            return actions
        }
    }

    private static func awaits(_ action: WorkerStateMachine.Action) -> Bool {
        switch action {
        case .claim, .start, .write, .askNextDue: true
        case .abort, .wake, .lostJobEnded, .outcomesGivenUp, .finish: false
        }
    }

    /// Performs an action that does not await (or hands one that does to a task of its own).
    private func perform(_ action: WorkerStateMachine.Action) {
        switch action {
        case .claim, .start, .write, .askNextDue, .wake:
            _ = state.withLock { $0.spawn }?.yield(action)
        case .abort(let ids, let reason):
            let aborts = state.withLock { state in ids.compactMap { id in state.aborts[id].map { (id, $0) } } }
            for (id, abort) in aborts where abort.request(reason) {
                logAbort(of: id, reason)
            }
        case .lostJobEnded(let id):
            logger.warning(
                "Job \(id) ended here after another worker recovered it; its outcome was not recorded",
                metadata: ["action": "lost_job_ended", "job_id": "\(id)"]
            )
        case .outcomesGivenUp(let ids):
            logger.error(
                "Could not record the outcomes of jobs \(ids); they stay doing and will run again once this worker no longer holds them",
                metadata: ["action": "outcomes_given_up"]
            )
        case .finish:
            state.withLock { state in
                state.spawn?.finish()
                state.spawn = nil
            }
        }
    }

    /// Performs an action that awaits; returns the event it led to.
    private func performAwaiting(_ action: WorkerStateMachine.Action) async -> WorkerStateMachine.Event {
        switch action {
        case .claim(let limit):
            return await claim(limit: limit)
        case .start(let job):
            // Made with the action (see ``handle(_:)``), forgotten with the body's end.
            let abort = state.withLock { $0.aborts[job.id] } ?? AbortState()
            return .bodyEnded(await JobRun(worker: self, job: job, abort: abort).run(), at: clock.now)
        case .write(let outcomes, let claim):
            return await write(outcomes, claim: claim)
        case .askNextDue(let since):
            return await askNextDue(since: since)
        case .abort, .wake, .lostJobEnded, .outcomesGivenUp, .finish:
            preconditionFailure("\(action) does not await")
        }
    }

    // MARK: Claims and writes

    /// Claims up to `limit` jobs in one round trip. A stop request does not cut it short: a
    /// claim may commit whatever its caller does, and jobs claimed by a worker that stopped
    /// waiting for them would wait for stalled-job recovery; the connector bounds it, and jobs
    /// it returns to a stopping worker run as running jobs do (up to the graceful timeout).
    private func claim(limit: Int) async -> WorkerStateMachine.Event {
        guard let workerID else { return .claimFailed(fatal: nil, at: clock.now) }
        let (connector, queues, taskNames) = (app.connector, options.queues, claimedTaskNames)
        do {
            let jobs = try await connector.fetchJobs(queues: queues, workerID: workerID, limit: limit, taskNames: taskNames)
            databaseAnswered()
            return .claimed(jobs, at: clock.now)
        } catch {
            guard !isStopping else { return .claimFailed(fatal: nil, at: clock.now) }
            if error is AppNotOpen || error is SchemaError {
                logger.critical("The worker stops: \(error)", metadata: ["action": "worker_failed"])
                return .claimFailed(fatal: error, at: clock.now)
            }
            if error is WorkerRegistrationGone {
                logger.warning(
                    "This worker's registration is gone (pruned while it was paused or cut off); registering again",
                    metadata: ["action": "registration_gone"]
                )
                heartbeatNow.send()
            } else {
                logFailure("Fetching jobs failed", error, level: .error, action: "fetch_job_failed")
            }
            if (error as? DatabaseError)?.isTransient ?? false {
                post(.databaseUnreachable)
            }
            return .claimFailed(fatal: nil, at: clock.now)
        }
    }

    /// Logs that `what` failed with `error`. An error that may heal is part of an outage, which
    /// is told once as it starts, again every ``outageReminder`` while it lasts, and when it
    /// ends (see ``databaseAnswered()``): the failures in between are debug details, so that
    /// a worker cut off from its database does not log a line per attempt of each loop.
    /// Other errors are logged at `level`.
    private func logFailure(_ what: String, _ error: any Error, level: Logger.Level = .warning, action: String) {
        guard let database = error as? DatabaseError, database.isTransient else {
            logger.log(level: level, "\(what): \(error)", metadata: ["action": "\(action)"])
            return
        }
        switch state.withLock({ $0.outage.failed(at: clock.now) }) {
        case .started:
            logger.warning(
                "The database is unreachable (\(what.lowercased())): \(database); the worker keeps trying, and says so every \(Self.outageReminder) while it lasts",
                metadata: ["action": "database_unreachable"]
            )
        case .stillFailing(let duration):
            logger.warning(
                "The database is still unreachable after \(Int(duration.seconds)) s: \(database)", metadata: ["action": "database_still_unreachable"]
            )
        case .detail, .recovered:
            logger.debug("\(what): \(error)", metadata: ["action": "\(action)"])
        }
    }

    /// An operation got its answer: ends an outage, if one was told.
    private func databaseAnswered() {
        guard case .recovered(let duration)? = state.withLock({ $0.outage.answered(at: clock.now) }) else { return }
        logger.info("The database answers again, after \(Int(duration.seconds)) s", metadata: ["action": "database_answers_again"])
    }

    /// Records `outcomes` and claims up to `claim` jobs in the same transaction. Nothing cancels
    /// it: the worker's cancellation reaches the engine as an event (see
    /// ``runEngine(workerID:actions:)``), and an aborted job's task hands the write to another (see
    /// ``drive(_:)``).
    private func write(_ outcomes: [JobOutcome], claim: Int) async -> WorkerStateMachine.Event {
        let (connector, queues, taskNames, workerID) = (app.connector, options.queues, claimedTaskNames, workerID)
        let written: (leftAlone: [Int64], fetched: [Job])
        do {
            written = try await connector.finishJobs(outcomes, thenFetch: queues, workerID: workerID, limit: claim, taskNames: taskNames)
        } catch {
            let now = clock.now
            let (failures, failing) = state.withLock { ($0.machine.writeFailures + 1, $0.machine.writeFailing(at: now)) }
            let canHeal = (error as? DatabaseError)?.isTransient ?? false
            logFailure(
                canHeal ? "Could not record \(outcomes.count) outcomes (failing for \(String(format: "%.1f", (failing ?? .zero).seconds)) s, \(failures) attempts); trying again"
                    : "Could not record the outcomes of jobs \(outcomes.map(\.jobID))",
                error, level: .error, action: "outcomes_not_recorded"
            )
            return .writeFailed(canHeal: canHeal, at: now)
        }
        databaseAnswered()
        let failures = state.withLock { $0.machine.writeFailures }
        if failures > 0 {
            logger.info("Recorded \(outcomes.count) outcomes after \(failures) failed attempts", metadata: ["action": "outcomes_recorded_after_failures"])
        }
        if !written.leftAlone.isEmpty {
            logger.warning(
                "Jobs \(written.leftAlone) no longer ran in the attempt this worker ran; their outcomes were not recorded",
                metadata: ["action": "ending_job"]
            )
        }
        return .written(successors: written.fetched, at: clock.now)
    }

    /// Asks when the earliest job this worker may run, scheduled (or a rate window opening)
    /// after `since`, is due: `since` as a date, so that however long the question waits for a
    /// connection, what became due meanwhile counts (it answers zero or less).
    private func askNextDue(since: ContinuousClock.Instant) async -> WorkerStateMachine.Event {
        do {
            let due = try await app.connector.nextScheduledJob(
                queues: options.queues, taskNames: claimedTaskNames, scheduledAfter: clock.date(of: since)
            )
            return .nextDue(in: due, at: clock.now)
        } catch {
            logger.debug("Could not read when the next scheduled job is due: \(error)", metadata: ["action": "next_scheduled_job_failed"])
            return .nextDueFailed(at: clock.now)
        }
    }

    private func logAbort(of id: Int64, _ reason: AbortReason) {
        switch reason {
        case .lost:
            logger.error(
                "Job \(id) was recovered by another worker while this one was paused or cut off: it is stopped here, and its outcome will not be recorded",
                metadata: ["action": "job_lost", "job_id": "\(id)"]
            )
        case .userRequest:
            logger.info("Aborting job \(id) on request", metadata: ["action": "abort_job", "job_id": "\(id)"])
        case .shutdown:
            logger.info("Aborting job \(id) (\(reason.rawValue))", metadata: ["action": "abort_job", "job_id": "\(id)"])
        }
    }

    /// Asks a running job to abort; returns whether it runs here.
    @discardableResult
    func requestAbort(ofJob id: Int64) -> Bool {
        guard state.withLock({ $0.machine.phase(of: id) == .running }) else { return false }
        post(.abortRequested(jobID: id, reason: .userRequest))
        return true
    }

    // MARK: Side tasks

    /// Sends a heartbeat every `updateHeartbeatInterval` (at once when the registration turned
    /// out to be gone), holding the jobs claimed and not yet recorded; then counts the jobs
    /// delayed by limits, for the metrics.
    private func sendHeartbeats(workerID: Int64) async {
        while !Task.isCancelled {
            await heartbeatNow.wait(upTo: options.updateHeartbeatInterval, clock: clock)
            guard !Task.isCancelled else { return }
            let held = state.withLock { $0.machine.heldJobs }
            do {
                let reply = try await app.connector.heartbeat(
                    workerID: workerID, holding: held, registration: registration, strayGrace: Self.strayGrace
                )
                post(.databaseAnswered(at: clock.now))
                databaseAnswered()
                handle(reply, workerID: workerID, held: held)
            } catch {
                post(.databaseUnreachable)
                logFailure("Heartbeat failed", error, action: "heartbeat_failed")
                continue
            }
            // Without our latest migration there are no limits to count.
            if let delayed = try? await app.connector.jobsDelayedByLimits(queues: options.queues, taskNames: claimedTaskNames) {
                metrics.jobsDelayedByLimits(delayed)
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
        let lostIDs = Set(reply.lostJobIDs)
        post(.jobsLost(held.filter { lostIDs.contains($0.id) }))
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
                    post(.listening(true))
                    post(.wake(at: clock.now))
                } onNotification: { [self] notification in
                    switch notification {
                    case .jobInserted, .queueResumed, .roomFreed: post(.wake(at: clock.now))
                    case .abortRequested(let id): requestAbort(ofJob: id)
                    }
                }
            } catch {
                logFailure("Listening for notifications failed, reconnecting in \(backoff)", error, action: "listen_failed")
            }
            let wasListening = isListening
            post(.listening(false))
            guard !Task.isCancelled else { return }
            if wasListening { backoff = .milliseconds(100) }
            try? await clock.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(1))
        }
    }

    /// Asks the database for abort requests while jobs run (notifications may be off or lost).
    private func pollAbortRequests() async {
        while !Task.isCancelled {
            try? await clock.sleep(for: options.abortJobPollingInterval)
            guard !Task.isCancelled, state.withLock({ $0.machine.hasRunningJobs }) else { continue }
            do {
                for id in try await app.connector.jobIDsToAbort(queue: nil) {
                    requestAbort(ofJob: id)
                }
            } catch {
                logFailure("Polling for abort requests failed", error, action: "poll_jobs_to_abort_error")
            }
        }
    }

    /// Recovers the running jobs of workers silent for `threshold` (never this worker's own),
    /// once this worker has itself been in touch with the database for that long.
    private func recoverStalledJobs(threshold: Duration, workerID: Int64) async {
        let interval = max(min(threshold / 2, .seconds(60)), .milliseconds(200))
        while !Task.isCancelled {
            try? await clock.sleep(for: interval)
            guard !Task.isCancelled, state.withLock({ $0.machine.contact.hasLasted(threshold, at: clock.now) }) else { continue }
            do {
                for job in try await app.connector.stalledJobs(secondsSinceHeartbeat: threshold.seconds, queue: nil, taskName: nil) {
                    guard state.withLock({ !$0.machine.holds(job.id) }) else { continue }
                    let decision = recoveryDecision(for: job, now: clock.date)
                    guard try await app.connector.recoverStalledJob(
                        job, staleAfter: threshold.seconds, excludingWorker: workerID, decision: decision
                    ) else { continue }
                    logger.warning(
                        "Recovered stalled job \(job.callString): \(decision == nil ? "failed" : "retried")",
                        metadata: ["action": "recover_stalled_job", "job_id": "\(job.id)", "task": "\(job.taskName)"]
                    )
                }
            } catch {
                logFailure("Recovering stalled jobs failed", error, action: "recover_stalled_jobs_error")
            }
        }
    }

    /// A stalled job runs again as its task's retry strategy says (``JobStalled`` as the
    /// error), or else as ``WorkerOptions/stalledJobs`` says; nil: it fails.
    func recoveryDecision(for job: Job, now: Date) -> RetryDecision? {
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
