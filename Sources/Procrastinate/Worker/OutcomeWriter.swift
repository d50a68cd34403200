import Logging
import Synchronization

/// Writes finished jobs' outcomes in batches (group commit): a write takes every outcome
/// submitted by then, after waiting up to `window` for the jobs whose bodies run now to end
/// (so that jobs ending together are written together), and the outcomes that arrive while a
/// write is under way go together in the next one. Under load a round trip records many
/// jobs; a lone job waits for nothing.
///
/// A job hands its outcome over and ends; the writer calls the job's completion once the
/// outcome is written (or given up), so no job task waits on the database. Writes run
/// outside the jobs' tasks, so cancelling a worker does not lose an outcome, and transient
/// database errors are retried with backoff. An outcome that still cannot be written leaves
/// its job `doing`, for stalled-job recovery.
final class OutcomeWriter: Sendable {
    /// Where a job whose slot passes to a successor claims it.
    struct SuccessorClaim: Sendable {
        var queues: [String]?
        var workerID: Int64
    }

    /// An outcome to write, whether its slot claims a successor, and what to call once it was
    /// written or given up (with the successor claimed, if any).
    private typealias Submission = (outcome: JobOutcome, claim: SuccessorClaim?, done: @Sendable (Job?) -> Void)

    private struct State {
        var pending: [Submission] = []
        var writing = false
        /// Tasks waiting for every outcome to be written.
        var drainers: [CheckedContinuation<Void, Never>] = []
    }

    private let connector: any Connector
    private let logger: Logger
    private let window: Duration
    /// Whether job bodies run now, whose outcomes may come soon.
    private let bodiesRunning: @Sendable () -> Bool
    private let state = Mutex(State())
    /// Sent at every submission.
    private let submitted = Signal()
    /// The most outcomes one statement writes.
    static let batchLimit = 1000

    init(connector: any Connector, logger: Logger, window: Duration, bodiesRunning: @escaping @Sendable () -> Bool) {
        self.connector = connector
        self.logger = logger
        self.window = window
        self.bodiesRunning = bodiesRunning
    }

    /// Queues `outcome` for writing; `done` is called once it was written or given up, on the
    /// writer's task: it must be quick. With a `claim`, the write also claims a job for the
    /// slot, in the same transaction (see ``Connector/finishJobs(_:thenFetch:workerID:limit:)``),
    /// and gives it to `done`.
    func submit(_ outcome: JobOutcome, claim: SuccessorClaim? = nil, done: @escaping @Sendable (Job?) -> Void) {
        let startWriter = state.withLock { state in
            state.pending.append((outcome, claim, done))
            defer { state.writing = true }
            return !state.writing
        }
        if startWriter {
            Task { await self.writeAll() }
        } else {
            submitted.send()
        }
    }

    /// Returns once every outcome submitted so far was written or given up.
    func drain() async {
        await withCheckedContinuation { continuation in
            let idle = state.withLock { state in
                if !state.writing { return true }
                state.drainers.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private func writeAll() async {
        while true {
            let deadline = ContinuousClock.now + window
            while bodiesRunning(), ContinuousClock.now < deadline {
                await submitted.wait(upTo: deadline - ContinuousClock.now)
            }
            let (batch, drainers) = state.withLock { state in
                let batch = Array(state.pending.prefix(Self.batchLimit))
                state.pending.removeFirst(batch.count)
                guard batch.isEmpty else { return (batch, [CheckedContinuation<Void, Never>]()) }
                state.writing = false
                defer { state.drainers = [] }
                return (batch, state.drainers)
            }
            guard !batch.isEmpty else {
                drainers.forEach { $0.resume() }
                return
            }
            let claims = batch.compactMap(\.claim)
            let written = await Self.persistently(logger: logger) {
                guard let claim = claims.first else {
                    return (leftAlone: try await connector.finishJobs(batch.map(\.outcome)), fetched: [Job]())
                }
                return try await connector.finishJobs(
                    batch.map(\.outcome), thenFetch: claim.queues, workerID: claim.workerID, limit: claims.count
                )
            }
            if let leftAlone = written?.leftAlone, !leftAlone.isEmpty {
                logger.warning("Jobs \(leftAlone) were no longer running; their outcomes were not recorded", metadata: ["action": "ending_job"])
            }
            var successors = written?.fetched[...] ?? []
            for submission in batch {
                submission.done(submission.claim == nil ? nil : successors.popFirst())
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
