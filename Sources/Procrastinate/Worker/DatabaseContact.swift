/// How long a worker has been in touch with the database without a break, from the answers and
/// failures of its own operations: it recovers other workers' jobs only once it has been for
/// the whole recovery threshold, so that an outage (during which nobody could send a heartbeat)
/// or a pause of its own does not make live workers look stalled. Pure: times come in as
/// arguments.
struct DatabaseContact: Sendable, Hashable {
    /// Since when operations succeed without a failure in between (nil: the last one failed).
    private(set) var since: ContinuousClock.Instant?

    /// An operation got its answer at `instant`.
    mutating func answered(at instant: ContinuousClock.Instant) {
        if since == nil { since = instant }
    }

    /// An operation failed (no answer, or a connection error): the clock starts again.
    mutating func lost() {
        since = nil
    }

    /// Whether the database has answered without a break for `threshold` at `instant`.
    func hasLasted(_ threshold: Duration, at instant: ContinuousClock.Instant) -> Bool {
        since.map { instant - $0 >= threshold } ?? false
    }
}
