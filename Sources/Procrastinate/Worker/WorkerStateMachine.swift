/// A worker's whole life, as a pure state machine: which jobs it holds and what each is doing,
/// the outcomes waiting to be written, when to claim, when to write, when to stop. It takes
/// events (jobs claimed, a body ended, outcomes written, a notification, a stop request, a
/// timer) and returns the actions to perform (claim, start a job, write outcomes, abort jobs,
/// wake at an instant, finish); it performs no I/O and reads no clock: every event carries the
/// instant it happened at. ``Worker`` drives it.
///
/// A job holds one of the worker's `concurrency` slots while its body runs. Every outcome
/// (success, failure, abort, retry) goes through the same writes, in batches: a write takes
/// every outcome waiting, after waiting up to `coalescingWindow` for the bodies running to end
/// (jobs ending together are written together), and claims for the slots free by then in the
/// same transaction. A job without a lock frees its slot when its body ends: a slot that frees
/// up while a write is under way is claimed beside it. A locked job keeps its slot until its
/// outcome's write, whose claim takes the slot: its lock's next job can be claimed only once
/// the outcome is written, and starts without a round trip of its own.
///
/// A claim that returns fewer jobs than asked makes the worker idle: it claims again after a
/// wake-up (a notification, a retry written, a scheduled job due, a rate limit's window open)
/// or its poll, and meanwhile its writes claim only for the room their outcomes free. When a
/// claim after a wake-up found nothing, the machine asks when the next job is due
/// (``Action/askNextDue(since:)``, one question at a time, asked again after a failure) and
/// wakes then. The driver must send ``Event/timer(at:)`` for every ``Action/wake(at:)``, at
/// that instant or later.
///
/// Its life is a ``Lifecycle``: registering, running, draining (stopped, or a one-shot worker
/// out of jobs: no more claims; running jobs end, up to the graceful deadline, and their
/// outcomes are written), finished. Its state is in three parts, each a struct of its own
/// with its rules: the slots (``HeldJobs``), the outcome batching (``OutcomeWrites``) and
/// when to claim (``ClaimPacing``); this type composes them and decides.
struct WorkerStateMachine {
    typealias Instant = ContinuousClock.Instant

    struct Configuration {
        /// How many jobs run at once.
        var concurrency: Int
        /// False for a one-shot worker: it stops once no job can be claimed.
        var waitsForJobs: Bool
        /// How long an idle worker waits before looking again without a notification.
        var pollInterval: Duration
        /// How long a write waits for the bodies running now to end, and slots freed right
        /// after a full claim wait for others, so that they go together.
        var coalescingWindow: Duration
        /// How long running jobs may run on after a stop request before they are aborted (nil:
        /// as long as they run).
        var gracefulTimeout: Duration?
        /// The most outcomes one write records.
        var batchLimit = 1000
        /// How long a stopping worker's write may fail before its outcomes are given up.
        var givingUpAfter = Duration.seconds(10)
    }

    enum Event {
        /// The worker registered: it may claim.
        case registered(workerID: Int64, at: Instant)
        /// A job may be waiting: a notification, listening again.
        case wake(at: Instant)
        /// The answer to ``Action/askNextDue(since:)``: the next job (or rate window) is due
        /// in `due` (nil: none is known).
        case nextDue(in: Duration?, at: Instant)
        /// The question of ``Action/askNextDue(since:)`` failed.
        case nextDueFailed(at: Instant)
        /// A claim returned these jobs.
        case claimed([Job], at: Instant)
        /// A claim failed; with `fatal`, no retry can heal it and the worker stops.
        case claimFailed(fatal: (any Error)?, at: Instant)
        /// A job's body ended with this outcome.
        case bodyEnded(JobOutcome, at: Instant)
        /// The write under way succeeded (outcomes of jobs that no longer ran in their attempt
        /// were left alone, which changes nothing here), and `successors` were claimed for the
        /// free slots.
        case written(successors: [Job], at: Instant)
        /// The write under way failed; `canHeal`: trying again may succeed.
        case writeFailed(canHeal: Bool, at: Instant)
        /// An instant asked for by ``Action/wake(at:)`` came (or a later one).
        case timer(at: Instant)
        /// Stop claiming; running jobs finish, up to the graceful timeout.
        case stopRequested(at: Instant)
        /// The worker's task was cancelled: running jobs are aborted now.
        case cancelled(at: Instant)
        /// Someone asked a job to abort.
        case abortRequested(jobID: Int64, reason: AbortReason)
        /// A heartbeat learnt that these held jobs were recovered by another worker.
        case jobsLost([HeldJob])
        /// The database answered (a heartbeat).
        case databaseAnswered(at: Instant)
        /// The database was out of reach.
        case databaseUnreachable
        /// Whether notifications reach the worker now.
        case listening(Bool)
    }

    enum Action: Equatable {
        /// Claim up to this many jobs.
        case claim(limit: Int)
        /// Run this claimed job.
        case start(Job)
        /// Record these outcomes, and claim up to `claim` jobs in the same transaction.
        case write([JobOutcome], claim: Int)
        /// Cancel these jobs' bodies.
        case abort([Int64], AbortReason)
        /// Send ``Event/timer(at:)`` at this instant.
        case wake(at: Instant)
        /// Ask when the next job is due, of those scheduled (or rate windows opening) after
        /// `since`, when the claim that found nothing began; answer with ``Event/nextDue(in:at:)``
        /// or ``Event/nextDueFailed(at:)``.
        case askNextDue(since: Instant)
        /// A job recovered by another worker ended here; its outcome is not recorded.
        case lostJobEnded(Int64)
        /// These outcomes could not be written and are given up: their jobs stay `doing`.
        case outcomesGivenUp([Int64])
        /// Nothing runs, nothing is left to write, nothing more is claimed: the worker ends.
        case finish
    }

    /// Where the worker is in its life. Each case says what may follow it.
    enum Lifecycle: Equatable {
        /// Not registered yet: nothing is claimed. Next: running, or draining (a stop).
        case registering
        /// Registered: claims and runs jobs. Next: draining.
        case running
        /// No more claims: the jobs held run to their end (aborted at `deadline`, if any) and
        /// their outcomes are written. Next: finished, once nothing is held or waits.
        case draining(Drain, deadline: Instant?)
        /// Nothing runs, nothing is left to write: the worker ended. Final.
        case finished
    }

    /// Why a worker drains.
    enum Drain: Equatable {
        /// A stop was requested (or the worker was cancelled, or a claim failed for good).
        case stopRequested
        /// A one-shot worker found nothing left to claim.
        case outOfJobs
    }

    /// Where a held job is.
    typealias Phase = HeldJobs.Phase

    let configuration: Configuration
    private(set) var lifecycle = Lifecycle.registering
    private(set) var workerID: Int64?
    private(set) var isListening = false
    /// Whether the database has been answering, for stalled-job recovery.
    private(set) var contact: DatabaseContact
    /// The error that stopped the worker, if one did.
    private(set) var fatal: (any Error)?

    /// The slots: the jobs held, from their claim to their outcome's write.
    private var held = HeldJobs()
    /// The outcome batching: what waits to be written, and the write under way.
    private var outcomes = OutcomeWrites()
    /// When to claim: the claim under way, idleness, the poll, the next job due.
    private var claims = ClaimPacing()
    /// Jobs aborted because the graceful timeout passed.
    private var abortedAtShutdown: Set<Int64> = []
    /// The timer asked for and not yet come.
    private var timerAt: Instant?

    init(configuration: Configuration, contact: DatabaseContact) {
        self.configuration = configuration
        self.contact = contact
    }

    // MARK: Queries

    /// The jobs claimed whose outcomes are not written yet, but those lost: what the
    /// heartbeat holds.
    var heldJobs: [HeldJob] {
        held.values.filter { !$0.lost }.map { HeldJob(id: $0.job.id, attempts: $0.job.attempts) }
    }

    /// Whether this worker holds `jobID` (claimed, its outcome not written yet).
    func holds(_ jobID: Int64) -> Bool { held[jobID] != nil }

    /// The jobs whose bodies run now.
    var runningJobIDs: [Int64] { held.runningIDs }

    /// Whether any job's body runs.
    var hasRunningJobs: Bool { held.running > 0 }

    /// Where `jobID` is, if held.
    func phase(of jobID: Int64) -> Phase? { held[jobID]?.phase }

    /// Failed attempts of the write under way.
    var writeFailures: Int { outcomes.failures }

    /// How long the write under way has been failing, if it has.
    func writeFailing(at now: Instant) -> Duration? { outcomes.failing(at: now) }

    /// Slots neither running a body, nor kept by a locked job's pending outcome, nor promised
    /// to a claim under way.
    private var freeSlots: Int {
        configuration.concurrency - held.keepingSlots - (claims.claiming?.limit ?? 0) - (outcomes.writing?.claim ?? 0)
    }

    /// Whether a stop was requested.
    var isStopping: Bool { if case .draining(.stopRequested, _) = lifecycle { true } else { false } }

    /// Whether the worker drains (stopping, or a one-shot worker out of jobs).
    private var isDraining: Bool { if case .draining = lifecycle { true } else { false } }

    /// Whether the worker may claim at all: registered, not draining.
    private var mayClaim: Bool { lifecycle == .running }

    /// Whether it may claim now: also not idle.
    private var claimsAllowed: Bool { mayClaim && !claims.idle }

    // MARK: Events

    /// Takes `event`; returns what to do.
    mutating func handle(_ event: Event) -> [Action] {
        var actions: [Action] = []
        let now: Instant?
        switch event {
        case .registered(let workerID, let at):
            self.workerID = workerID
            if lifecycle == .registering { lifecycle = .running }
            contact.answered(at: at)
            now = at
        case .wake(let at):
            claims.wokeUp()
            now = at
        case .nextDue(let due, let at):
            if let ask = claims.nextDue(in: due, at: at, pollInterval: configuration.pollInterval) { actions.append(ask) }
            now = at
        case .nextDueFailed(let at):
            claims.nextDueFailed(at: at)
            now = at
        case .claimed(let jobs, let at):
            if let claim = claims.answered() {
                received(jobs, asked: claim.limit, startedAt: claim.startedAt, wakeCount: claim.wakeCount, at: at, into: &actions)
            }
            now = at
        case .claimFailed(let error, let at):
            claimFailed(fatal: error, at: at)
            now = at
        case .bodyEnded(let outcome, let at):
            bodyEnded(outcome, at: at, into: &actions)
            now = at
        case .written(let successors, let at):
            written(successors: successors, at: at, into: &actions)
            now = at
        case .writeFailed(let canHeal, let at):
            writeFailed(canHeal: canHeal, at: at, into: &actions)
            now = at
        case .timer(let at):
            if let timerAt, timerAt <= at { self.timerAt = nil }
            claims.timer(at: at)
            now = at
        case .stopRequested(let at):
            requestStop(at: at)
            now = at
        case .cancelled(let at):
            requestStop(at: at)
            if case .draining(let drain, _) = lifecycle { lifecycle = .draining(drain, deadline: at) }
            now = at
        case .abortRequested(let jobID, let reason):
            if held[jobID]?.phase == .running { actions.append(.abort([jobID], reason)) }
            now = nil
        case .jobsLost(let jobs):
            let lost = held.lose(jobs)
            if !lost.isEmpty { actions.append(.abort(lost, .lost)) }
            now = nil
        case .databaseAnswered(let at):
            contact.answered(at: at)
            now = nil
        case .databaseUnreachable:
            contact.lost()
            now = nil
        case .listening(let listening):
            isListening = listening
            now = nil
        }
        if let now { decide(at: now, into: &actions) }
        return actions
    }

    /// The worker drains for a stop: from running or registering (a one-shot worker already
    /// draining keeps its course, but gets the graceful deadline).
    private mutating func requestStop(at now: Instant) {
        switch lifecycle {
        case .registering, .running, .draining(.outOfJobs, _):
            lifecycle = .draining(.stopRequested, deadline: configuration.gracefulTimeout.map { now + $0 })
        case .draining(.stopRequested, _), .finished:
            return
        }
    }

    private mutating func received(
        _ jobs: [Job], asked: Int, startedAt: Instant, wakeCount: Int, at now: Instant, into actions: inout [Action]
    ) {
        for job in jobs {
            held[job.id] = HeldJobs.Held(job: job)
            actions.append(.start(job))
        }
        // A one-shot worker that found nothing looks again once its jobs' outcomes are written
        // (a retry makes a job claimable again); it drains when nothing is left.
        if jobs.isEmpty, !configuration.waitsForJobs, lifecycle == .running, held.isEmpty, outcomes.isEmpty, !claims.wroteSinceClaim {
            lifecycle = .draining(.outOfJobs, deadline: nil)
        }
        let poll = configuration.waitsForJobs ? configuration.pollInterval : nil
        if let ask = claims.received(jobs.count, asked: asked, startedAt: startedAt, wakeCount: wakeCount, at: now, pollInterval: poll) {
            actions.append(ask)
        }
    }

    private mutating func claimFailed(fatal error: (any Error)?, at now: Instant) {
        guard error == nil else {
            _ = claims.answered()
            fatal = error
            requestStop(at: now)
            return
        }
        guard mayClaim else {
            _ = claims.answered()
            return
        }
        // A one-shot worker gives up rather than retrying forever.
        if claims.failed(at: now, pollInterval: configuration.pollInterval) >= 10, !configuration.waitsForJobs {
            lifecycle = .draining(.outOfJobs, deadline: nil)
        }
    }

    private mutating func bodyEnded(_ outcome: JobOutcome, at now: Instant, into actions: inout [Action]) {
        guard var state = held[outcome.jobID], state.phase == .running else { return }
        if state.lost {
            held[outcome.jobID] = nil
            actions.append(.lostJobEnded(outcome.jobID))
            return
        }
        state.phase = .pending(holdsSlot: state.job.lock != nil)
        held[outcome.jobID] = state
        outcomes.add(outcome, at: now, window: configuration.coalescingWindow)
        claims.bodyEnded(unlocked: state.job.lock == nil, at: now, window: configuration.coalescingWindow)
    }

    private mutating func written(successors: [Job], at now: Instant, into actions: inout [Action]) {
        guard let write = outcomes.succeeded(at: now, window: configuration.coalescingWindow) else { return }
        claims.wrote()
        for outcome in write.outcomes { held[outcome.jobID] = nil }
        if write.outcomes.contains(where: { $0.retry != nil }) || !configuration.waitsForJobs {
            // A retry may be due now: look again.
            claims.wokeUp()
        }
        if write.claim > 0 {
            received(successors, asked: write.claim, startedAt: write.startedAt, wakeCount: write.wakeCount, at: now, into: &actions)
        }
    }

    private mutating func writeFailed(canHeal: Bool, at now: Instant, into actions: inout [Action]) {
        // However the worker ends (stopped, cancelled, a one-shot worker out of jobs), its end
        // is bounded: outcomes that keep failing are given up.
        guard let (write, failure) = outcomes.failed(at: now, canHeal: canHeal, ending: isDraining, givingUpAfter: configuration.givingUpAfter)
        else { return }
        switch failure {
        case .givenUp(let given):
            for outcome in given { held[outcome.jobID] = nil }
            actions.append(.outcomesGivenUp(given.map(\.jobID)))
        case .retrying:
            for outcome in write.outcomes { held[outcome.jobID]?.phase = .pending(holdsSlot: false) }
        }
    }

    // MARK: Decisions

    /// What to do now: abort at the graceful deadline, write, claim, finish, or wait.
    private mutating func decide(at now: Instant, into actions: inout [Action]) {
        var earliest: Instant?
        if case .draining(_, let deadline?) = lifecycle {
            if deadline <= now {
                // Jobs a claim under way returned after the deadline are aborted too.
                let running = runningJobIDs.filter { !abortedAtShutdown.contains($0) }
                abortedAtShutdown.formUnion(running)
                if !running.isEmpty { actions.append(.abort(running, .shutdown)) }
            } else if held.running > 0 {
                Self.keep(&earliest, deadline)
            }
        }
        decideWrite(at: now, deadline: &earliest, into: &actions)
        decideClaim(at: now, deadline: &earliest, into: &actions)
        if isDraining, claims.claiming == nil, held.isEmpty, outcomes.isEmpty {
            lifecycle = .finished
            actions.append(.finish)
            return
        }
        if mayClaim {
            let (instants, ask) = claims.waits(at: now)
            instants.forEach { Self.keep(&earliest, $0) }
            if let ask { actions.append(ask) }
        }
        if let earliest, timerAt.map({ earliest < $0 }) ?? true {
            timerAt = earliest
            actions.append(.wake(at: earliest))
        }
    }

    /// Keeps the earlier of `earliest` and `instant`.
    private static func keep(_ earliest: inout Instant?, _ instant: Instant) {
        earliest = min(earliest ?? instant, instant)
    }

    private mutating func decideWrite(at now: Instant, deadline earliest: inout Instant?, into actions: inout [Action]) {
        // An idle worker writes at once: the room its outcomes free is what it waits for (a
        // binding limit's next job starts a round trip later, not a window later).
        let atOnce = held.running == 0 || isDraining || claims.idle
        switch outcomes.readiness(at: now, atOnce: atOnce, batchLimit: configuration.batchLimit) {
        case .nothing:
            return
        case .at(let instant):
            Self.keep(&earliest, instant)
            return
        case .now:
            break
        }
        let batch = outcomes.take(batchLimit: configuration.batchLimit, at: now)
        for outcome in batch { held[outcome.jobID]?.phase = .writing }
        // The slots free now (a locked job's among them) are claimed by the write. An idle
        // worker claims as many as the write ends jobs: the room they free (a lock's next job,
        // a concurrency limit's share, a retry due now) becomes claimable with this write, in
        // its transaction.
        let free = max(freeSlots, 0)
        let claim = claimsAllowed ? free : (mayClaim ? min(batch.count, free) : 0)
        if claim > 0 { claims.beginWithWrite() }
        outcomes.begin(batch, claim: claim, at: now, wakeCount: claims.wakeCount)
        actions.append(.write(batch, claim: claim))
    }

    private mutating func decideClaim(at now: Instant, deadline earliest: inout Instant?, into actions: inout [Action]) {
        guard claims.claiming == nil, claimsAllowed else { return }
        if let retryAt = claims.retryAt, retryAt > now {
            Self.keep(&earliest, retryAt)
            return
        }
        let free = freeSlots
        guard free > 0 else { return }
        // Outcomes waiting for a write that has not begun: it claims for these slots too.
        guard outcomes.pending.isEmpty || outcomes.writing != nil else { return }
        // Right after a full claim (jobs are likely waiting), slots that free up together are
        // claimed together.
        if let deadline = claims.deadline, deadline > now, held.running > 0, free < configuration.concurrency {
            Self.keep(&earliest, deadline)
            return
        }
        claims.begin(limit: free, at: now)
        actions.append(.claim(limit: free))
    }
}
