public import Foundation

/// What to do with a job that failed: run it again (when, and with what changes), or not.
public struct RetryDecision: Sendable, Hashable {
    /// When to run it again.
    public var retryAt: Date
    /// A new priority (nil: keep).
    public var priority: Int?
    /// A new queue (nil: keep).
    public var queue: String?
    /// A new lock (nil: keep).
    public var lock: String?

    /// Retry at `retryAt`, changing what is given.
    public init(retryAt: Date, priority: Int? = nil, queue: String? = nil, lock: String? = nil) {
        self.retryAt = retryAt
        self.priority = priority
        self.queue = queue
        self.lock = lock
    }

    /// Retry after `delay`, changing what is given.
    public init(retryIn delay: Duration, priority: Int? = nil, queue: String? = nil, lock: String? = nil, now: Date = Date()) {
        self.init(retryAt: now.addingTimeInterval(delay.seconds), priority: priority, queue: queue, lock: lock)
    }
}

/// When a failed job runs again.
public protocol RetryPolicy: Sendable {
    /// The decision for a job that failed with `error` after `attempts` previous runs
    /// (0 on its first run); nil: do not retry.
    func retryDecision(for error: any Error, attempts: Int, now: Date) -> RetryDecision?
}

/// Procrastinate's retry strategy: at most `maxAttempts` retries, waiting
/// `wait + linearWait × attempts + exponentialWait ^ (attempts + 1)` seconds, for the errors
/// `retryOn` accepts (all when nil).
///
/// ```swift
/// RetryStrategy(maxAttempts: 5, exponentialWait: 2)   // waits 2, 4, 8, 16, 32 seconds
/// ```
public struct RetryStrategy: RetryPolicy {
    /// Retries at most (nil or 0: no limit).
    public var maxAttempts: Int?
    /// Seconds added to every wait.
    public var wait: Double
    /// Seconds times the attempts already made.
    public var linearWait: Double
    /// Base raised to the power attempts + 1 (0: none).
    public var exponentialWait: Double
    /// Which errors to retry (nil: every error).
    public var retryOn: (@Sendable (any Error) -> Bool)?

    /// A strategy; with no arguments it retries forever, at once.
    public init(
        maxAttempts: Int? = nil, wait: Double = 0, linearWait: Double = 0, exponentialWait: Double = 0,
        retryOn: (@Sendable (any Error) -> Bool)? = nil
    ) {
        self.maxAttempts = maxAttempts
        self.wait = wait
        self.linearWait = linearWait
        self.exponentialWait = exponentialWait
        self.retryOn = retryOn
    }

    /// Retry only errors of the given types.
    public init(maxAttempts: Int? = nil, wait: Double = 0, linearWait: Double = 0, exponentialWait: Double = 0, retryOn types: [any Error.Type]) {
        self.init(maxAttempts: maxAttempts, wait: wait, linearWait: linearWait, exponentialWait: exponentialWait) { error in
            types.contains { ObjectIdentifier(type(of: error)) == ObjectIdentifier($0) }
        }
    }

    /// The seconds to wait before retry number `attempts + 1`.
    public func waitSeconds(attempts: Int) -> Double {
        let exponential = exponentialWait == 0 ? 0 : pow(exponentialWait, Double(attempts + 1))
        return wait + linearWait * Double(attempts) + exponential
    }

    public func retryDecision(for error: any Error, attempts: Int, now: Date) -> RetryDecision? {
        if let maxAttempts, maxAttempts > 0, attempts >= maxAttempts { return nil }
        if let retryOn, !retryOn(error) { return nil }
        // Far waits end at the last date PostgreSQL and Python both take (year 9999).
        let retryAt = min(now.addingTimeInterval(waitSeconds(attempts: attempts)), Self.latestDate)
        return RetryDecision(retryAt: retryAt)
    }

    static let latestDate = Date(timeIntervalSince1970: 253_402_300_799)
}

extension Duration {
    /// The duration in seconds.
    package var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
