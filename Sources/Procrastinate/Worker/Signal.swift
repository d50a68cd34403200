import Synchronization

/// Wakes tasks waiting for something to happen (a job notification, a freed slot, an abort
/// request). A signal sent while nobody waits is kept for the next waiter.
final class Signal: Sendable {
    private struct State {
        var pending = false
        var nextID: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// Wakes every waiter, or the next one if none waits.
    func send() {
        let waiters = state.withLock { state in
            let waiters = state.waiters
            state.waiters = [:]
            if waiters.isEmpty { state.pending = true }
            return waiters.values
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns at the next signal (or at once for a pending one), or when cancelled.
    func wait() async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    if Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Returns at the next signal, after `timeout` at the latest, or when cancelled; returns
    /// whether a signal came.
    @discardableResult
    func wait(upTo timeout: Duration, clock: any WorkerClock) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.wait()
                return !Task.isCancelled
            }
            group.addTask {
                try? await clock.sleep(for: timeout)
                return false
            }
            let signalled = await group.next() ?? false
            group.cancelAll()
            return signalled
        }
    }
}
