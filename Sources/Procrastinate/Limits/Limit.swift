public import Foundation

/// At most ``concurrency`` jobs running at once, and at most ``rate`` starts per period, across
/// every Swift worker on the database: the limit of a queue, of a task, or of a limit key.
///
/// ```swift
/// try app.limit(queue: "emails", Limit(concurrency: 20))
/// let sync = try app.task("sync", limit: Limit(rate: Limit.Rate(50, per: .seconds(1)))) { (tenant: Tenant) in … }
/// ```
public struct Limit: Sendable, Hashable {
    /// At most `count` starts in any `period` (a sliding window over the latest starts), paced:
    /// at most `burst` of them in any `period × burst / count`, so that starts spread over the
    /// period instead of coming all at its beginning.
    public struct Rate: Sendable, Hashable {
        /// The most starts in one period, from 1 to ``maximumCount``.
        public var count: Int
        /// The period.
        public var period: Duration
        /// The most starts at once, from 1 to `count`: a tenth of `count` (rounded up) unless
        /// given; `count` lets the whole period's starts come at once.
        public var burst: Int

        /// The largest ``count``: a rate's window keeps the time of each start in it.
        public static let maximumCount = 10_000

        /// At most `count` starts in any `period`, at most `burst` (by default a tenth of
        /// `count`, rounded up) in any `period × burst / count`.
        public init(_ count: Int, per period: Duration, burst: Int? = nil) {
            self.count = count
            self.period = period
            self.burst = burst ?? max(1, (count + 9) / 10)
        }

        /// The pace's window: `period × burst / count`.
        package var paceWindow: Duration { period * burst / count }
    }

    /// How many jobs may run at once, from 1 to ``maximumConcurrency`` (nil: no such limit).
    public var concurrency: Int?
    /// The largest ``concurrency``: the database keeps it as a 32-bit integer.
    public static let maximumConcurrency = Int(Int32.max)
    /// How many jobs may start per period (nil: no such limit).
    public var rate: Rate?

    /// A limit of concurrency, rate, or both.
    public init(concurrency: Int? = nil, rate: Rate? = nil) {
        self.concurrency = concurrency
        self.rate = rate
    }

    /// Throws ``ConfigurationError`` naming `subject` unless the limit limits something and its
    /// numbers are in range.
    package func check(for subject: String) throws(ConfigurationError) {
        if concurrency == nil && rate == nil {
            throw ConfigurationError(description: "the limit of \(subject) gives neither a concurrency nor a rate")
        }
        if let concurrency, !(1...Self.maximumConcurrency).contains(concurrency) {
            throw ConfigurationError(
                description: "the concurrency limit of \(subject) is \(concurrency); it must be from 1 to \(Self.maximumConcurrency)"
            )
        }
        if let rate {
            guard (1...Rate.maximumCount).contains(rate.count) else {
                throw ConfigurationError(
                    description: "the rate limit of \(subject) allows \(rate.count) starts per period; it must be from 1 to \(Rate.maximumCount)"
                )
            }
            guard (1...rate.count).contains(rate.burst) else {
                throw ConfigurationError(description: "the rate limit of \(subject) has a burst of \(rate.burst); it must be from 1 to its count, \(rate.count)")
            }
            guard rate.period > .zero else {
                throw ConfigurationError(description: "the rate limit of \(subject) has a period of \(rate.period); it must be longer than zero")
            }
        }
    }
}

/// What a limit applies to.
public enum LimitTarget: Sendable, Hashable, Comparable {
    /// The jobs of a queue.
    case queue(String)
    /// The jobs of a task.
    case task(String)
    /// The jobs deferred with a limit key.
    case key(String)

    /// `queue`, `task` or `key`.
    public var scope: String {
        switch self {
        case .queue: "queue"
        case .task: "task"
        case .key: "key"
        }
    }

    /// The queue's, task's or key's name.
    public var name: String {
        switch self {
        case .queue(let name), .task(let name), .key(let name): name
        }
    }

    /// The target named `name` in `scope` (`queue`, `task` or `key`), if the scope is one.
    public init?(scope: String, name: String) {
        switch scope {
        case "queue": self = .queue(name)
        case "task": self = .task(name)
        case "key": self = .key(name)
        default: return nil
        }
    }

    /// Throws ``ConfigurationError`` for an empty name (or one of spaces only).
    package func checkName() throws(ConfigurationError) {
        if name.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ConfigurationError(description: "a \(scope) name cannot be empty ('\(name)' given)")
        }
    }

    public static func < (lhs: LimitTarget, rhs: LimitTarget) -> Bool {
        (lhs.scope, lhs.name) < (rhs.scope, rhs.name)
    }
}

/// A limit and its use now.
public struct LimitUsage: Sendable, Hashable {
    /// What it limits.
    public var target: LimitTarget
    /// The limit.
    public var limit: Limit
    /// Its jobs running.
    public var running: Int
    /// Its jobs waiting (due or not).
    public var waiting: Int
    /// Starts within the rate's latest period (0 without a rate).
    public var recentStarts: Int

    /// A limit's use.
    public init(target: LimitTarget, limit: Limit, running: Int, waiting: Int, recentStarts: Int) {
        (self.target, self.limit, self.running, self.waiting, self.recentStarts) = (target, limit, running, waiting, recentStarts)
    }

    /// Whether no job of it can start now.
    public var isFull: Bool {
        if let concurrency = limit.concurrency, running >= concurrency { return true }
        if let rate = limit.rate, recentStarts >= rate.count { return true }
        return false
    }
}

/// A queue paused for every Swift worker.
public struct PausedQueue: Sendable, Hashable {
    /// The queue.
    public var name: String
    /// Since when.
    public var since: Date

    /// A paused queue.
    public init(name: String, since: Date) {
        self.name = name
        self.since = since
    }
}

extension ConfigurationError {
    /// A key's limit cannot be removed while `count` jobs name the key (finished ones too,
    /// until retention deletes them).
    package static func keyNamedByJobs(_ key: String, count: Int) -> ConfigurationError {
        ConfigurationError(
            description: "limit key '\(key)' is named by \(count) \(count == 1 ? "job" : "jobs") (finished ones count until retention deletes them), "
                + "which keep its limit: set another limit instead, or remove it once they are gone"
        )
    }
}
