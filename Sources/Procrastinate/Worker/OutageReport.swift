/// What a worker says of a database outage: one warning when operations start failing, a
/// reminder every ``reminder`` while they keep failing (saying for how long), and one line
/// when the database answers again; the failures in between are details (debug). Pure: times
/// come in as arguments.
struct OutageReport: Sendable, Hashable {
    /// What to log for a failure, or for an answer.
    enum Line: Sendable, Hashable {
        /// The first failure after answers.
        case started
        /// Still failing, for this long (a reminder).
        case stillFailing(for: Duration)
        /// Another failure of the same outage: a detail.
        case detail
        /// The database answers again, after failing for this long.
        case recovered(after: Duration)
    }

    /// How often a continuing outage is logged again.
    let reminder: Duration
    /// Since when operations fail (nil: the database answers).
    private(set) var since: ContinuousClock.Instant?
    private var lastLine: ContinuousClock.Instant?

    init(reminder: Duration) {
        self.reminder = reminder
    }

    /// An operation failed at `instant` for a reason that may heal.
    mutating func failed(at instant: ContinuousClock.Instant) -> Line {
        guard let since, let lastLine else {
            (since, lastLine) = (instant, instant)
            return .started
        }
        guard instant - lastLine >= reminder else { return .detail }
        self.lastLine = instant
        return .stillFailing(for: instant - since)
    }

    /// An operation got its answer at `instant`; a line only when that ends an outage.
    mutating func answered(at instant: ContinuousClock.Instant) -> Line? {
        guard let since else { return nil }
        defer { (self.since, lastLine) = (nil, nil) }
        return .recovered(after: instant - since)
    }
}
