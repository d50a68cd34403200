public import Foundation
public import Procrastinate
import Synchronization

/// A worker's clock that moves only when a test advances it: every wait of the worker (its
/// timers, polls, heartbeats, job timeouts) ends when the test says so, and the test sees
/// which are pending. Give it to the worker (`WorkerOptions.clock`) and to the in-memory
/// store (`InMemoryConnector(clock: { clock.date })`), so that both read one time:
///
/// ```swift
/// let clock = ManualWorkerClock()
/// let app = App(connector: InMemoryConnector(clock: { clock.date }))
/// let report = try app.task("report") { (_: NoArguments) in }
/// let worker = Worker(app: app, options: WorkerOptions(clock: clock))
/// ```
public final class ManualWorkerClock: WorkerClock {
    private struct Sleeper {
        var deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var elapsed = Duration.zero
        var sleepers: [UUID: Sleeper] = [:]
    }

    private let origin = ContinuousClock.now
    private let dateOrigin = Date()
    private let state = Mutex(State())

    /// A clock at the present instant and date, which stays there until advanced.
    public init() {}

    public var now: ContinuousClock.Instant { origin + state.withLock { $0.elapsed } }

    public var date: Date { dateOrigin.addingTimeInterval(state.withLock { $0.elapsed }.seconds) }

    /// How far each pending wait is from now.
    public var pendingWaits: [Duration] {
        state.withLock { state in state.sleepers.values.map { $0.deadline - (origin + state.elapsed) }.sorted() }
    }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let now = state.withLock { state -> Result<Bool, CancellationError> in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= origin + state.elapsed { return .success(true) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return .success(false)
                }
                switch now {
                case .success(true): continuation.resume()
                case .success(false): break
                case .failure(let error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            state.withLock { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock on by `duration`, ending the waits whose deadline it reaches.
    public func advance(by duration: Duration) {
        let due = state.withLock { state in
            state.elapsed += duration
            let now = origin + state.elapsed
            let due = state.sleepers.filter { $0.value.deadline <= now }
            due.keys.forEach { state.sleepers[$0] = nil }
            return due.values.map(\.continuation)
        }
        due.forEach { $0.resume() }
    }
}
