public import Foundation

/// Wall-clock time for the periodic deferrer: injectable, so that tests of schedules need not wait.
public protocol WallClock: Sendable {
    /// Now.
    func now() -> Date
    /// Returns at `deadline` (or when cancelled).
    func sleep(until deadline: Date) async throws
}

/// The system's clock.
public struct SystemWallClock: WallClock {
    /// The system's clock.
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        if seconds > 0 {
            try await Task.sleep(for: .milliseconds(Int64((seconds * 1000).rounded(.up))))
        }
    }
}
