/// When a worker claims: the claim under way and its back-off, whether the worker is idle (a
/// claim found less than asked since the latest wake-up), its poll, and the question of when
/// the next job is due: the claiming part of ``WorkerStateMachine``. One claim and one
/// question at a time.
struct ClaimPacing {
    typealias Instant = ContinuousClock.Instant

    /// A claim under way.
    struct Claim {
        var limit: Int
        var startedAt: Instant
        /// The wake-ups counted when it began.
        var wakeCount: Int
    }

    /// The question of when the next job is due.
    enum Question {
        /// None asked.
        case none
        /// Asked; `again`: a claim found nothing again meanwhile (a job due sooner may have
        /// come), so it is asked again once answered, for jobs due after that claim began.
        case asking(again: Instant?)
        /// It failed: it is asked again at `at`, for jobs due after `since`.
        case retrying(at: Instant, since: Instant)
    }

    /// How long after a failed question it is asked again.
    static let questionRetryDelay = Duration.seconds(1)

    private(set) var claiming: Claim?
    /// Wake-ups so far: a claim that began before the latest one may have missed a job.
    private(set) var wakeCount = 0
    /// A claim found less than asked since the latest wake-up: the next claim waits for one.
    private(set) var idle = false
    /// Whether a write completed since the latest claim began (a retry makes a job claimable).
    private(set) var wroteSinceClaim = false
    /// When slots freed right after a full claim wait no more for others.
    private(set) var deadline: Instant?
    private(set) var retryAt: Instant?
    private var failures = 0
    private var pollAt: Instant?
    /// The latest claim returned as many jobs as asked: more are likely waiting.
    private var backlog = false
    private var lastRoundTrip = Duration.zero
    private var question = Question.none
    /// When the latest claim after a wake-up that found less than asked began.
    private var lastEmptyClaimStart: Instant?
    /// When the next job is due, as the latest answer said.
    private var dueAt: Instant?

    /// A job may be claimable: claim again, at once.
    mutating func wokeUp() {
        wakeCount += 1
        idle = false
        pollAt = nil
        retryAt = nil
    }

    /// A claim begins, for `limit` jobs.
    mutating func begin(limit: Int, at now: Instant) {
        deadline = nil
        wroteSinceClaim = false
        claiming = Claim(limit: limit, startedAt: now, wakeCount: wakeCount)
    }

    /// A write claims beside its outcomes.
    mutating func beginWithWrite() {
        deadline = nil
        wroteSinceClaim = false
    }

    /// The claim under way answered; returns it.
    mutating func answered() -> Claim? {
        defer { claiming = nil }
        if claiming != nil {
            failures = 0
            retryAt = nil
        }
        return claiming
    }

    /// The claim under way failed; returns how many times in a row claims failed.
    mutating func failed(at now: Instant, pollInterval: Duration) -> Int {
        claiming = nil
        failures += 1
        retryAt = now + min(pollInterval, .milliseconds(100 << min(failures, 6)))
        return failures
    }

    /// A claim (begun at `startedAt`, after `wakeCount` wake-ups) returned `count` of `asked`
    /// jobs; returns the question to ask, if any. Less than asked, and no wake-up since it
    /// began: the worker is idle until the next one, its poll (`pollInterval`, nil: none) or
    /// the instant the next job is due. A worker idle already (its write claimed for the room
    /// its outcomes freed) learnt nothing new: its poll and its question stand.
    mutating func received(_ count: Int, asked: Int, startedAt: Instant, wakeCount: Int, at now: Instant, pollInterval: Duration?) -> WorkerStateMachine.Action? {
        lastRoundTrip = now - startedAt
        backlog = count == asked
        guard count < asked, wakeCount == self.wakeCount, !idle else { return nil }
        idle = true
        guard let pollInterval else { return nil }
        lastEmptyClaimStart = startedAt
        pollAt = now + pollInterval
        return ask(since: startedAt)
    }

    /// An outcome's write completed.
    mutating func wrote() {
        wroteSinceClaim = true
    }

    /// A body ended at `now`: right after a full claim (jobs are likely waiting), the slot of
    /// an unlocked job waits a round trip (at most `window`) for others, to be claimed together.
    mutating func bodyEnded(unlocked: Bool, at now: Instant, window: Duration) {
        if backlog, unlocked, deadline == nil {
            deadline = now + min(lastRoundTrip, window)
        }
    }

    /// Forgets the wait for slots to be claimed together.
    mutating func claimAlone() {
        deadline = nil
    }

    /// Asks when the next job is due after `since`, or (one question at a time) marks the one
    /// under way to be asked again.
    private mutating func ask(since: Instant) -> WorkerStateMachine.Action? {
        switch question {
        case .asking:
            question = .asking(again: since)
            return nil
        case .none, .retrying:
            question = .asking(again: nil)
            return .askNextDue(since: since)
        }
    }

    /// The answer to the question: the next job is due in `due` (nil: none known); a job due
    /// before the poll wakes the worker then. Returns the question to ask again, if a claim
    /// found nothing meanwhile.
    mutating func nextDue(in due: Duration?, at now: Instant, pollInterval: Duration) -> WorkerStateMachine.Action? {
        guard case .asking(let again) = question else { return nil }
        question = .none
        if let again { return ask(since: again) }
        guard let due, due < pollInterval else { return nil }
        if due <= .zero {
            wokeUp()
        } else {
            dueAt = min(dueAt ?? now + due, now + due)
        }
        return nil
    }

    /// The question failed: it is asked again after ``questionRetryDelay``.
    mutating func nextDueFailed(at now: Instant) {
        if case .asking(let again) = question, let since = again ?? lastEmptyClaimStart {
            question = .retrying(at: now + Self.questionRetryDelay, since: since)
        } else {
            question = .none
        }
    }

    /// A timer came at `now`: the poll or the instant a job is due wakes the worker.
    mutating func timer(at now: Instant) {
        if let pollAt, pollAt <= now { wokeUp() }
        if let dueAt, dueAt <= now {
            self.dueAt = nil
            wokeUp()
        }
    }

    /// The instants this part waits for (the poll, a job due, the question's retry), and the
    /// question to ask again now, if its retry came.
    mutating func waits(at now: Instant) -> (instants: [Instant], ask: WorkerStateMachine.Action?) {
        var instants = [dueAt].compactMap { $0 }
        if let pollAt, idle { instants.append(pollAt) }
        guard case .retrying(let at, let since) = question else { return (instants, nil) }
        guard at <= now else { return (instants + [at], nil) }
        question = .none
        return (instants, ask(since: since))
    }
}
