import Foundation
import Logging
import Synchronization

/// Writes finished jobs' outcomes (retries included) in batches (group commit): a write takes
/// every outcome submitted by then, after waiting up to `window` for the jobs whose bodies run
/// now to end (so that jobs ending together are written together), and the outcomes that
/// arrive while a write is under way go together in the next one. Under load a round trip
/// records many jobs; a lone job waits for nothing.
///
/// A job hands its outcome over and ends; the writer calls the job's completion once the
/// outcome is written (or given up), so no job task waits on the database. Writes run outside
/// the jobs' tasks, so cancelling a worker does not lose an outcome. A write that fails for a
/// reason that can heal (the connection, the server restarting) is tried again, with backoff,
/// for as long as the worker runs, and the outcomes submitted meanwhile join it rather than
/// wait behind it; the log says how long it has failed. Outcomes are given up only when the
/// error cannot heal, or when the worker is stopping (``stopping()``) and they have failed for
/// ``givingUpAfter``:
/// their jobs stay `doing`, and come back (through stalled-job recovery, or the heartbeat's
/// release of jobs the worker no longer holds) to run again.
final class OutcomeWriter: Sendable {
    /// Where a job whose slot passes to a successor claims it.
    struct SuccessorClaim: Sendable {
        var queues: [String]?
        var workerID: Int64
        var taskNames: [String]?
    }

    /// An outcome to write, whether its slot claims a successor, and what to call once it was
    /// written or given up (with the successor claimed, if any).
    private typealias Submission = (outcome: JobOutcome, claim: SuccessorClaim?, done: @Sendable (Job?) -> Void)

    private struct State {
        var pending: [Submission] = []
        var writing = false
        /// Set when the worker stops: outcomes failing for ``givingUpAfter`` are given up.
        var stopping = false
        /// Tasks waiting for every outcome to be written.
        var drainers: [CheckedContinuation<Void, Never>] = []
    }

    private let connector: any Connector
    private let logger: Logger
    private let window: Duration
    /// Whether job bodies run now, whose outcomes may come soon.
    private let bodiesRunning: @Sendable () -> Bool
    private let state = Mutex(State())
    /// Sent at every submission, and when giving up starts.
    private let submitted = Signal()
    /// The most outcomes one statement writes.
    static let batchLimit = 1000
    /// How long a stopping worker's outcomes may fail before they are given up.
    static let givingUpAfter = Duration.seconds(10)

    init(connector: any Connector, logger: Logger, window: Duration, bodiesRunning: @escaping @Sendable () -> Bool) {
        self.connector = connector
        self.logger = logger
        self.window = window
        self.bodiesRunning = bodiesRunning
    }

    /// Queues `outcome` for writing; `done` is called once it was written or given up, on the
    /// writer's task: it must be quick. With a `claim`, the write also claims a job for the
    /// slot, in the same transaction (see ``Connector/finishJobs(_:thenFetch:workerID:limit:taskNames:)``),
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

    /// The worker is stopping: from now on, outcomes failing for ``givingUpAfter`` are given up,
    /// so that its shutdown is bounded whatever the database does.
    func stopping() {
        state.withLock { $0.stopping = true }
        submitted.send()
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
            var batch = take(upTo: Self.batchLimit)
            if batch.isEmpty {
                let drainers = state.withLock { state in
                    // Submissions may have come since `take`: write them first.
                    guard state.pending.isEmpty else { return [CheckedContinuation<Void, Never>]?.none }
                    state.writing = false
                    defer { state.drainers = [] }
                    return state.drainers
                }
                guard let drainers else { continue }
                drainers.forEach { $0.resume() }
                return
            }
            await write(&batch)
        }
    }

    /// Takes up to `limit` pending submissions, oldest first.
    private func take(upTo limit: Int) -> [Submission] {
        state.withLock { state in
            let batch = Array(state.pending.prefix(max(limit, 0)))
            state.pending.removeFirst(batch.count)
            return batch
        }
    }

    /// Writes `batch` until it is written or given up, letting later submissions join a retry.
    private func write(_ batch: inout [Submission]) async {
        let firstAttempt = ContinuousClock.now
        var delay = Duration.milliseconds(100)
        for failures in 1... {
            do {
                let written = try await writeOnce(batch)
                if failures > 1 {
                    logger.info(
                        "Recorded \(batch.count) outcomes after \(failures - 1) failed attempts",
                        metadata: ["action": "outcomes_recorded_after_failures"]
                    )
                }
                if !written.leftAlone.isEmpty {
                    logger.warning(
                        "Jobs \(written.leftAlone) no longer ran in the attempt this worker ran; their outcomes were not recorded",
                        metadata: ["action": "ending_job"]
                    )
                }
                var successors = written.fetched[...]
                for submission in batch {
                    submission.done(submission.claim == nil ? nil : successors.popFirst())
                }
                return
            } catch {
                let failing = ContinuousClock.now - firstAttempt
                let givingUp = state.withLock { $0.stopping } && failing >= Self.givingUpAfter
                guard Self.canHeal(error), !givingUp else {
                    logger.error(
                        "Could not record the outcomes of jobs \(batch.map(\.outcome.jobID)): \(error); they stay doing and will run again once this worker no longer holds them",
                        metadata: ["action": "outcomes_given_up"]
                    )
                    batch.forEach { $0.done(nil) }
                    return
                }
                if failures == 1 || failures.isMultiple(of: 10) {
                    logger.log(
                        level: failures == 1 ? .warning : .error,
                        "Could not record \(batch.count) outcomes (failing for \(String(format: "%.1f", failing.seconds)) s): \(error); trying again",
                        metadata: ["action": "outcomes_not_recorded"]
                    )
                }
                await submitted.wait(upTo: delay)
                delay = min(delay * 2, .seconds(5))
                batch += take(upTo: Self.batchLimit - batch.count)
            }
        }
    }

    private func writeOnce(_ batch: [Submission]) async throws -> (leftAlone: [Int64], fetched: [Job]) {
        let outcomes = batch.map(\.outcome)
        let claims = batch.compactMap(\.claim)
        guard let claim = claims.first else {
            return (try await connector.finishJobs(outcomes), [])
        }
        return try await connector.finishJobs(
            outcomes, thenFetch: claim.queues, workerID: claim.workerID, limit: claims.count, taskNames: claim.taskNames
        )
    }

    /// Whether trying again may succeed: the connection failed or the server was unavailable,
    /// rather than the statement being wrong for this database.
    static func canHeal(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.isTransient
    }
}
