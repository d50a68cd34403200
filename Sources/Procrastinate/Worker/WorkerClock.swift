public import Foundation

/// The time a worker reads: the instants its state machine decides by, every wait of its own
/// (timers, polls, heartbeats, back-offs, job timeouts), and the dates it writes. Given in
/// ``WorkerOptions/clock``, so that a test drives a worker's timing without waiting.
public protocol WorkerClock: Sendable {
    /// Now, on a monotonic clock.
    var now: ContinuousClock.Instant { get }
    /// Now, on the wall clock.
    var date: Date { get }
    /// Returns at `deadline` or later; throws `CancellationError` when cancelled first.
    func sleep(until deadline: ContinuousClock.Instant) async throws
}

extension WorkerClock {
    /// Returns after `duration` or later; throws `CancellationError` when cancelled first.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now + duration)
    }

    /// The wall-clock date of `instant`.
    public func date(of instant: ContinuousClock.Instant) -> Date {
        date.addingTimeInterval(-(now - instant).seconds)
    }
}

/// The system's clocks: `ContinuousClock` and `Date()`.
public struct SystemWorkerClock: WorkerClock {
    /// The system's clocks.
    public init() {}

    public var now: ContinuousClock.Instant { .now }

    public var date: Date { Date() }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        try await Task.sleep(until: deadline, clock: .continuous)
    }
}
