import Synchronization

/// When the latency probes' bodies started. The benchmark waits for each one without
/// spinning: a busy wait would take one of the cores the worker and the database share.
final class Probes: Sendable {
    private enum Entry {
        case arrived(ContinuousClock.Instant)
        case awaited(CheckedContinuation<ContinuousClock.Instant?, Never>)
    }

    private let entries = Mutex<[Int: Entry]>([:])

    /// Records that probe `k`'s body started now.
    func arrived(_ k: Int) {
        let now = ContinuousClock.now
        let waiter = entries.withLock { entries -> CheckedContinuation<ContinuousClock.Instant?, Never>? in
            guard case .awaited(let waiter) = entries[k] else {
                entries[k] = .arrived(now)
                return nil
            }
            entries[k] = nil
            return waiter
        }
        waiter?.resume(returning: now)
    }

    /// When probe `k`'s body started; nil when it did not within `timeout`.
    func arrival(of k: Int, within timeout: Duration) async -> ContinuousClock.Instant? {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled { self.expire(k) }
            }
            let arrival = await withCheckedContinuation { (waiter: CheckedContinuation<ContinuousClock.Instant?, Never>) in
                let arrived = entries.withLock { entries -> ContinuousClock.Instant? in
                    if case .arrived(let instant) = entries[k] {
                        entries[k] = nil
                        return instant
                    }
                    entries[k] = .awaited(waiter)
                    return nil
                }
                if let arrived { waiter.resume(returning: arrived) }
            }
            group.cancelAll()
            return arrival
        }
    }

    private func expire(_ k: Int) {
        let waiter = entries.withLock { entries -> CheckedContinuation<ContinuousClock.Instant?, Never>? in
            guard case .awaited(let waiter) = entries[k] else { return nil }
            entries[k] = nil
            return waiter
        }
        waiter?.resume(returning: nil)
    }
}
