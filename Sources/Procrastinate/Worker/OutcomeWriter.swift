import Logging
import Synchronization

/// Writes finished jobs' outcomes in batches: the first outcome is written at once, and the
/// outcomes that arrive while a write is under way go together in the next one (group
/// commit). Under load a round trip records many jobs; an idle worker waits for nothing.
///
/// Writes run outside the jobs' tasks, so cancelling a worker does not lose an outcome, and
/// transient database errors are retried with backoff. An outcome that still cannot be
/// written leaves its job `doing`, for stalled-job recovery.
final class OutcomeWriter: Sendable {
    private typealias Waiter = (outcome: JobOutcome, continuation: CheckedContinuation<Bool, Never>)

    private struct State {
        var pending: [Waiter] = []
        var writing = false
    }

    private let connector: any Connector
    private let logger: Logger
    private let state = Mutex(State())
    /// The most outcomes one statement writes.
    static let batchLimit = 1000

    init(connector: any Connector, logger: Logger) {
        self.connector = connector
        self.logger = logger
    }

    /// Writes `outcome`; returns whether it was written.
    func write(_ outcome: JobOutcome) async -> Bool {
        await withCheckedContinuation { continuation in
            let startWriter = state.withLock { state in
                state.pending.append((outcome, continuation))
                defer { state.writing = true }
                return !state.writing
            }
            if startWriter {
                Task { await self.writeAll() }
            }
        }
    }

    private func writeAll() async {
        while true {
            let batch = state.withLock { state in
                let batch = Array(state.pending.prefix(Self.batchLimit))
                state.pending.removeFirst(batch.count)
                if batch.isEmpty { state.writing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            let leftAlone = await Self.persistently(logger: logger) {
                try await connector.finishJobs(batch.map(\.outcome))
            }
            let notWritten = Set(leftAlone ?? batch.map(\.outcome.jobID))
            if let leftAlone, !leftAlone.isEmpty {
                logger.warning("Jobs \(leftAlone) were no longer running; their outcomes were not recorded", metadata: ["action": "ending_job"])
            }
            for waiter in batch {
                waiter.continuation.resume(returning: !notWritten.contains(waiter.outcome.jobID))
            }
        }
    }

    /// Runs `operation`, retrying database errors with backoff (about 20 seconds in all);
    /// nil when it never succeeded. ``InvalidJobState`` is not retried.
    static func persistently<Result: Sendable>(logger: Logger, _ operation: () async throws -> Result) async -> Result? {
        var delay = Duration.milliseconds(100)
        for attempt in 1...8 {
            do {
                return try await operation()
            } catch let error as InvalidJobState {
                logger.warning("Could not record the outcome: \(error)", metadata: ["action": "ending_job"])
                return nil
            } catch {
                guard attempt < 8 else {
                    logger.error(
                        "Could not record an outcome: \(error); the job stays doing until stalled-job recovery takes it",
                        metadata: ["action": "ending_job"]
                    )
                    return nil
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        return nil
    }
}
