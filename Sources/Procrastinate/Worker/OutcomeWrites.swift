/// The outcomes waiting to be written and the write under way, with its back-off: the
/// outcome-batching part of ``WorkerStateMachine``. One write at a time; outcomes that come
/// meanwhile wait for the next.
struct OutcomeWrites {
    typealias Instant = ContinuousClock.Instant

    /// A write under way: its outcomes, and the jobs it claims beside them.
    struct Write {
        var outcomes: [JobOutcome]
        var claim: Int
        var startedAt: Instant
        /// The wake-ups counted when it began (see ``ClaimPacing/wakeCount``).
        var wakeCount: Int
    }

    /// When a write may go.
    enum Readiness: Equatable {
        /// Nothing waits, or a write is under way.
        case nothing
        /// At this instant (a window for bodies about to end, or a back-off).
        case at(Instant)
        /// Now.
        case now
    }

    /// What became of a failed write.
    enum Failure {
        /// Its outcomes wait again, for a write after a back-off.
        case retrying
        /// Its outcomes are given up.
        case givenUp([JobOutcome])
    }

    private(set) var pending: [JobOutcome] = []
    private(set) var writing: Write?
    /// When outcomes pending wait no more for running bodies.
    private var deadline: Instant?
    private var retryAt: Instant?
    private var failingSince: Instant?
    /// Failed attempts of the write under way (or of its outcomes' next one).
    private(set) var failures = 0

    /// Whether nothing waits and nothing is written.
    var isEmpty: Bool { pending.isEmpty && writing == nil }

    /// How long the write under way has been failing, if it has.
    func failing(at now: Instant) -> Duration? { failingSince.map { now - $0 } }

    /// An outcome to write, waiting up to `window` for others.
    mutating func add(_ outcome: JobOutcome, at now: Instant, window: Duration) {
        pending.append(outcome)
        if deadline == nil { deadline = now + window }
    }

    /// When the next write may go: at once when `atOnce` (nothing worth waiting for) or a full
    /// batch waits; else once the window passed.
    func readiness(at now: Instant, atOnce: Bool, batchLimit: Int) -> Readiness {
        guard writing == nil, !pending.isEmpty else { return .nothing }
        if let retryAt, retryAt > now { return .at(retryAt) }
        let deadline = deadline ?? now
        return atOnce || deadline <= now || pending.count >= batchLimit ? .now : .at(deadline)
    }

    /// Takes the oldest outcomes (at most `batchLimit`) for the next write.
    mutating func take(batchLimit: Int, at now: Instant) -> [JobOutcome] {
        let batch = Array(pending.prefix(batchLimit))
        pending.removeFirst(batch.count)
        deadline = pending.isEmpty ? nil : now
        return batch
    }

    /// Begins the write of `batch` (from ``take(batchLimit:at:)``), claiming `claim` jobs.
    mutating func begin(_ batch: [JobOutcome], claim: Int, at now: Instant, wakeCount: Int) {
        writing = Write(outcomes: batch, claim: claim, startedAt: now, wakeCount: wakeCount)
    }

    /// The write under way succeeded; returns it. The outcomes that came meanwhile wait a
    /// window again, for the bodies running now (the successors just claimed among them):
    /// chains of locked jobs written together stay together.
    mutating func succeeded(at now: Instant, window: Duration) -> Write? {
        guard let write = writing else { return nil }
        writing = nil
        failures = 0
        failingSince = nil
        retryAt = nil
        if !pending.isEmpty { deadline = now + window }
        return write
    }

    /// The write under way failed; returns it and what became of it. Its outcomes are given
    /// up when no retry can heal it, or when `ending` and it has failed for `givingUpAfter`.
    mutating func failed(at now: Instant, canHeal: Bool, ending: Bool, givingUpAfter: Duration) -> (Write, Failure)? {
        guard let write = writing else { return nil }
        writing = nil
        failures += 1
        let since = failingSince ?? write.startedAt
        if !canHeal || (ending && now - since >= givingUpAfter) {
            failures = 0
            failingSince = nil
            return (write, .givenUp(write.outcomes))
        }
        failingSince = since
        pending.insert(contentsOf: write.outcomes, at: 0)
        retryAt = now + min(.milliseconds(100) * (1 << min(failures - 1, 6)), .seconds(5))
        return (write, .retrying)
    }
}
