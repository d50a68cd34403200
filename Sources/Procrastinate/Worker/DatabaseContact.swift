/// How long a worker has been in touch with the database without a break, from the answers of
/// its heartbeats and the failures of its operations: it recovers other workers' jobs only once
/// it has been for the whole recovery threshold, so that an outage (during which nobody could
/// send a heartbeat) or a pause of its own does not make live workers look stalled. Pure: times
/// come in as arguments.
///
/// A break is a failure, or answers further apart than `maxGap`: an operation may wait through
/// an outage for a connection and succeed afterwards, so that success alone proves nothing
/// about the time before it.
struct DatabaseContact: Sendable, Hashable {
    /// The longest time between two answers of an unbroken contact.
    let maxGap: Duration
    /// Since when answers come without a break (nil: the last operation failed).
    private(set) var since: ContinuousClock.Instant?
    /// The last answer.
    private var lastAnswer: ContinuousClock.Instant?

    /// A contact whose answers are at most `maxGap` apart.
    init(maxGap: Duration) {
        self.maxGap = maxGap
    }

    /// An operation got its answer at `instant`.
    mutating func answered(at instant: ContinuousClock.Instant) {
        if let lastAnswer, instant - lastAnswer > maxGap {
            since = nil
        }
        if since == nil { since = instant }
        lastAnswer = instant
    }

    /// An operation failed (no answer, or a connection error): the clock starts again.
    mutating func lost() {
        since = nil
    }

    /// Whether the database has answered without a break for `threshold` at `instant` (its
    /// last answer no older than `maxGap`).
    func hasLasted(_ threshold: Duration, at instant: ContinuousClock.Instant) -> Bool {
        guard let since, let lastAnswer, instant - lastAnswer <= maxGap else { return false }
        return instant - since >= threshold
    }
}
