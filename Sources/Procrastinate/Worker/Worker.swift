import Foundation
import Logging
public import ServiceLifecycle
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
    let registration: WorkerRegistration
    let state: Mutex<State>
    /// Sent when the worker's registration turned out to be gone: a heartbeat registers it again.
    let heartbeatNow = Signal()
    /// The only clock the worker reads (``WorkerOptions/clock``).
    let clock: any WorkerClock

    /// How old a claim of this worker's must be before a heartbeat puts it back in the queue
    /// when the worker does not hold its job (the answer to the claim was lost): longer than
    /// any claim may take to reach the worker.
    static let strayGrace = Duration.seconds(60)
    /// How often a continuing database outage is logged again.
    static let outageReminder = Duration.seconds(30)

    /// The state machine, which owns every decision, and what its driver keeps beside it.
    struct State {
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
    var claimedTaskNames: [String]? { registration.taskNames }

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
    func post(_ event: WorkerStateMachine.Event) {
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
    func logFailure(_ what: String, _ error: any Error, level: Logger.Level = .warning, action: String) {
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
    func databaseAnswered() {
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
}
