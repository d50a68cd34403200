import Foundation
import Testing

@testable import Procrastinate

/// The worker's decisions, event by event, without a database or real time: instants are
/// offsets from one origin.
@Suite struct WorkerStateMachineTests {
    typealias Machine = WorkerStateMachine
    let t0 = ContinuousClock.now

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { t0 + .milliseconds(milliseconds) }

    func machine(concurrency: Int = 2, waits: Bool = true, gracefulTimeout: Duration? = nil, batchLimit: Int = 1000) -> Machine {
        Machine(
            configuration: .init(
                concurrency: concurrency, waitsForJobs: waits, pollInterval: .seconds(5), coalescingWindow: .milliseconds(1),
                gracefulTimeout: gracefulTimeout, batchLimit: batchLimit
            ),
            contact: DatabaseContact(maxGap: .seconds(20))
        )
    }

    /// A machine that registered at 0.
    func registered(concurrency: Int = 2, waits: Bool = true, gracefulTimeout: Duration? = nil, batchLimit: Int = 1000) -> Machine {
        var m = machine(concurrency: concurrency, waits: waits, gracefulTimeout: gracefulTimeout, batchLimit: batchLimit)
        _ = m.handle(.registered(workerID: 1, at: at(0)))
        return m
    }

    /// A machine that registered at 0 and claimed `jobs` at 1.
    func running(_ jobs: [Job], concurrency: Int = 2, waits: Bool = true, gracefulTimeout: Duration? = nil, batchLimit: Int = 1000) -> Machine {
        var m = registered(concurrency: concurrency, waits: waits, gracefulTimeout: gracefulTimeout, batchLimit: batchLimit)
        _ = m.handle(.claimed(jobs, at: at(1)))
        return m
    }

    func aborted(_ id: Int64, attempts: Int = 0) -> JobOutcome {
        JobOutcome(jobID: id, status: .aborted, deleteJob: false, attempts: attempts)
    }

    func job(_ id: Int64, lock: String? = nil, attempts: Int = 0) -> Job {
        Job(id: id, queue: "default", taskName: "t", lock: lock, status: .doing, attempts: attempts)
    }

    func succeeded(_ id: Int64, attempts: Int = 0) -> JobOutcome {
        JobOutcome(jobID: id, status: .succeeded, deleteJob: false, attempts: attempts)
    }

    @Test func claimsForEveryFreeSlotAndWritesOutcomesWithTheNextClaim() {
        var m = machine()
        #expect(m.handle(.registered(workerID: 1, at: at(0))) == [.claim(limit: 2)])
        #expect(m.handle(.claimed([job(1), job(2)], at: at(1))) == [.start(job(1)), .start(job(2))])
        // One body ended, the other runs: the write waits up to the window for it.
        #expect(m.handle(.bodyEnded(succeeded(1), at: at(2))) == [.wake(at: at(3))])
        #expect(m.runningJobIDs == [2])
        // Both ended: one write records both and claims for both slots.
        #expect(m.handle(.bodyEnded(succeeded(2), at: at(2))) == [.write([succeeded(1), succeeded(2)], claim: 2)])
        #expect(m.heldJobs.map(\.id).sorted() == [1, 2])
        // Fewer than asked: the worker waits for a wake-up (the driver asks when a job is due),
        // or polls (the timer asked for before comes first, and asks for the poll).
        #expect(m.handle(.written(successors: [job(3)], at: at(4))) == [.start(job(3)), .askNextDue(since: at(2))])
        #expect(m.handle(.timer(at: at(4))) == [.wake(at: at(5004))])
        #expect(m.heldJobs.map(\.id) == [3])
    }

    @Test func theWriteGoesAtTheWindowsEndWhenBodiesStillRun() {
        var m = running([job(1), job(2)])
        _ = m.handle(.bodyEnded(succeeded(1), at: at(2)))
        #expect(m.handle(.timer(at: at(3))) == [.write([succeeded(1)], claim: 1)])
        // Meanwhile the other ends: its slot is claimed beside the write under way, and its
        // outcome waits for the next write.
        #expect(m.handle(.bodyEnded(succeeded(2), at: at(4))) == [.claim(limit: 1)])
        // The write done, that outcome waits a window again for the body just started.
        #expect(m.handle(.written(successors: [job(3)], at: at(5))) == [.start(job(3)), .wake(at: at(6))])
        #expect(m.handle(.timer(at: at(6))) == [.write([succeeded(2)], claim: 0)])
    }

    @Test func aLockedJobKeepsItsSlotUntilItsWriteClaimsTheNext() {
        var m = running([job(1, lock: "a")], concurrency: 1)
        let actions = m.handle(.bodyEnded(succeeded(1), at: at(2)))
        #expect(actions == [.write([succeeded(1)], claim: 1)])
        #expect(m.phase(of: 1) == .writing)
        #expect(m.handle(.written(successors: [job(2, lock: "a")], at: at(3))) == [.start(job(2, lock: "a"))])
    }

    @Test func aSlotFreedWhileAWriteIsUnderWayIsClaimedBesideIt() {
        var m = running([job(1), job(2, lock: "a")])
        // The unlocked job's write claims for its slot; the locked one's slot is kept.
        _ = m.handle(.bodyEnded(succeeded(2), at: at(2)))
        #expect(m.handle(.timer(at: at(3))) == [.write([succeeded(2)], claim: 1)])
        #expect(m.handle(.bodyEnded(succeeded(1), at: at(4))) == [.claim(limit: 1)])
        // The write's claim found nothing: the driver asks when a job is due (a rate limit's
        // window may open before the poll).
        // The worker is idle now: its next write claims only for the room its outcome frees.
        #expect(m.handle(.written(successors: [], at: at(5))) == [.askNextDue(since: at(3)), .write([succeeded(1)], claim: 1), .wake(at: at(5005))])
    }

    @Test func anIdleWorkerWaitsForAWakeUpOrItsPoll() {
        var m = registered()
        #expect(m.handle(.claimed([], at: at(1))) == [.askNextDue(since: at(0)), .wake(at: at(5001))])
        #expect(m.handle(.timer(at: at(100))).isEmpty)
        #expect(m.handle(.wake(at: at(200))) == [.claim(limit: 2)])
        // Nothing again while the first question waits for its answer: one question at a
        // time, asked again (since the latest claim) once answered.
        #expect(m.handle(.claimed([], at: at(201))).isEmpty)
        #expect(m.handle(.nextDue(in: nil, at: at(202))) == [.askNextDue(since: at(200))])
        // The first poll's timer comes (early now), and asks for the later one.
        #expect(m.handle(.timer(at: at(5001))) == [.wake(at: at(5201))])
        #expect(m.handle(.timer(at: at(5201))) == [.claim(limit: 2)])
    }

    @Test func aWakeUpDuringAClaimMakesAnEmptyAnswerClaimAgain() {
        var m = registered()
        #expect(m.handle(.wake(at: at(1))).isEmpty)
        #expect(m.handle(.claimed([], at: at(2))) == [.claim(limit: 2)])
    }

    @Test func aWrittenRetryMakesTheWorkerLookAgain() {
        var m = running([job(1)], concurrency: 1)
        let retry = JobOutcome(jobID: 1, retry: RetryDecision(retryAt: Date()), attempts: 0)
        #expect(m.handle(.bodyEnded(retry, at: at(2))) == [.write([retry], claim: 1)])
        // The write's claim found nothing (the retry was not due yet at its start): look again.
        #expect(m.handle(.written(successors: [], at: at(3))) == [.claim(limit: 1)])
    }

    @Test func aOneShotWorkerStopsOnceNothingIsLeftAndItsOutcomesAreWritten() {
        var m = running([job(1)], concurrency: 2, waits: false)
        // Found less than asked while a job runs: no polling, no end yet.
        #expect(m.runningJobIDs == [1])
        // Its claim found less than asked: the write claims only for the room its outcome frees.
        #expect(m.handle(.bodyEnded(succeeded(1), at: at(2))) == [.write([succeeded(1)], claim: 1)])
        // Its write claimed nothing; since a write may make a retry claimable, it looks again.
        #expect(m.handle(.written(successors: [], at: at(3))) == [.claim(limit: 2)])
        #expect(m.handle(.claimed([], at: at(4))) == [.finish])
        #expect(m.handle(.wake(at: at(5))).isEmpty)
    }

    @Test func aOneShotWorkerWithNothingToDoFinishesAtOnce() {
        var m = registered(waits: false)
        #expect(m.handle(.claimed([], at: at(1))) == [.finish])
    }

    @Test func aStopLetsRunningJobsFinishThenAbortsThemAtTheGracefulTimeout() {
        var m = running([job(1), job(2)], gracefulTimeout: .seconds(1))
        #expect(m.handle(.stopRequested(at: at(10))) == [.wake(at: at(1010))])
        // A stopping worker writes without claiming, and does not wait for running bodies.
        #expect(m.handle(.bodyEnded(succeeded(1), at: at(20))) == [.write([succeeded(1)], claim: 0)])
        #expect(m.handle(.timer(at: at(1010))) == [.abort([2], .shutdown)])
        #expect(m.handle(.written(successors: [], at: at(1011))).isEmpty)
        #expect(m.handle(.bodyEnded(aborted(2), at: at(1012))) == [.write([aborted(2)], claim: 0)])
        #expect(m.handle(.written(successors: [], at: at(1013))) == [.finish])
    }

    @Test func cancellingAbortsRunningJobsAtOnceAndStillWritesTheirOutcomes() {
        var m = running([job(1)])
        #expect(m.handle(.cancelled(at: at(2))) == [.abort([1], .shutdown)])
        #expect(m.handle(.bodyEnded(aborted(1), at: at(3))) == [.write([aborted(1)], claim: 0)])
        #expect(m.handle(.written(successors: [], at: at(4))) == [.finish])
    }

    @Test func aFailedClaimIsTriedAgainWithBackoffAndAFatalOneStopsTheWorker() {
        var m = registered()
        #expect(m.handle(.claimFailed(fatal: nil, at: at(1))) == [.wake(at: at(201))])
        #expect(m.handle(.timer(at: at(201))) == [.claim(limit: 2)])
        #expect(m.handle(.claimFailed(fatal: nil, at: at(202))) == [.wake(at: at(602))])
        // A notification ends the wait.
        #expect(m.handle(.wake(at: at(300))) == [.claim(limit: 2)])
        struct Broken: Error {}
        #expect(m.handle(.claimFailed(fatal: Broken(), at: at(301))) == [.finish])
        #expect(m.fatal is Broken)
    }

    @Test func aOneShotWorkerGivesUpClaimingAfterTenFailures() {
        var m = registered(waits: false)
        var now = 1
        for _ in 1..<10 {
            let actions = m.handle(.claimFailed(fatal: nil, at: at(now)))
            guard case .wake(let instant) = actions.last else { Issue.record("no retry after \(actions)"); return }
            now = Int((instant - t0) / .milliseconds(1))
            #expect(m.handle(.timer(at: instant)) == [.claim(limit: 2)])
        }
        #expect(m.handle(.claimFailed(fatal: nil, at: at(now))) == [.finish])
    }

    @Test func aFailingWriteIsTriedAgainWithLaterOutcomesAndGivenUpOnlyWhenStopping() {
        var m = running([job(1), job(2)])
        _ = m.handle(.bodyEnded(succeeded(1), at: at(2)))
        #expect(m.handle(.timer(at: at(3))) == [.write([succeeded(1)], claim: 1)])
        #expect(m.handle(.writeFailed(canHeal: true, at: at(4))) == [.wake(at: at(104))])
        _ = m.handle(.bodyEnded(succeeded(2), at: at(50)))
        #expect(m.handle(.timer(at: at(104))) == [.write([succeeded(1), succeeded(2)], claim: 2)])
        #expect(m.handle(.writeFailed(canHeal: true, at: at(105))) == [.wake(at: at(305))])
        #expect(m.writeFailing(at: at(105)) == .milliseconds(102))
        // Stopping: the outcomes are given up once they have failed for ten seconds.
        _ = m.handle(.stopRequested(at: at(200)))
        #expect(m.handle(.timer(at: at(305))) == [.write([succeeded(1), succeeded(2)], claim: 0)])
        #expect(m.handle(.writeFailed(canHeal: true, at: at(10_003))) == [.outcomesGivenUp([1, 2]), .finish])
    }

    @Test func anOutcomeThatCannotBeWrittenIsGivenUpAtOnce() {
        var m = running([job(1)], concurrency: 1)
        _ = m.handle(.bodyEnded(succeeded(1), at: at(2)))
        #expect(m.handle(.writeFailed(canHeal: false, at: at(3))) == [.outcomesGivenUp([1]), .claim(limit: 1)])
        #expect(m.heldJobs.isEmpty)
    }

    @Test func aJobLostToRecoveryIsStoppedAndItsOutcomeNotWritten() {
        var m = running([job(1, attempts: 2), job(2)])
        // Another attempt's loss, and a job not running here, change nothing.
        #expect(m.handle(.jobsLost([HeldJob(id: 1, attempts: 1), HeldJob(id: 9, attempts: 0)])).isEmpty)
        #expect(m.handle(.jobsLost([HeldJob(id: 1, attempts: 2)])) == [.abort([1], .lost)])
        #expect(m.heldJobs.map(\.id) == [2])
        #expect(m.handle(.bodyEnded(aborted(1, attempts: 2), at: at(2))) == [.lostJobEnded(1), .claim(limit: 1)])
        // A job whose outcome waits for its write is the write's to fence.
        _ = m.handle(.bodyEnded(succeeded(2), at: at(3)))
        #expect(m.handle(.jobsLost([HeldJob(id: 2, attempts: 0)])).isEmpty)
    }

    @Test func anAbortRequestReachesOnlyARunningBody() {
        var m = running([job(1), job(2)])
        #expect(m.handle(.abortRequested(jobID: 1, reason: .userRequest)) == [.abort([1], .userRequest)])
        _ = m.handle(.bodyEnded(succeeded(2), at: at(2)))
        #expect(m.handle(.abortRequested(jobID: 2, reason: .userRequest)).isEmpty)
        #expect(m.handle(.abortRequested(jobID: 3, reason: .userRequest)).isEmpty)
    }

    @Test func anIdleWorkersWritesGoAtOnceAndClaimForTheRoomTheirOutcomesFree() {
        var m = registered(concurrency: 3)
        // Two jobs where three were asked: the worker is idle.
        _ = m.handle(.claimed([job(1, lock: "a"), job(2)], at: at(1)))
        // No window: the room an outcome frees (a limit's share, a lock's next job) is claimed
        // a round trip after its job ends, by the write, for as many as it ends.
        #expect(m.handle(.bodyEnded(succeeded(2), at: at(2))) == [.write([succeeded(2)], claim: 1)])
        #expect(m.handle(.bodyEnded(succeeded(1), at: at(2))).isEmpty)
        // (Its claim found nothing again: the question of when a job is due, asked after the
        // first claim, is asked again once answered.)
        #expect(m.handle(.written(successors: [], at: at(3))) == [.write([succeeded(1)], claim: 1)])
        #expect(m.handle(.written(successors: [job(3, lock: "a")], at: at(4))) == [.start(job(3, lock: "a"))])
    }

    @Test func slotsFreedRightAfterAFullClaimAreClaimedTogether() {
        var m = running([job(1), job(2), job(3)], concurrency: 3)
        _ = m.handle(.bodyEnded(succeeded(1), at: at(2)))
        #expect(m.handle(.timer(at: at(3))) == [.write([succeeded(1)], claim: 1)])
        // While that write is under way, a slot frees: it waits a round trip for others.
        #expect(m.handle(.bodyEnded(succeeded(2), at: at(4))) == [.wake(at: at(5))])
        #expect(m.handle(.bodyEnded(succeeded(3), at: at(4))) == [.claim(limit: 2)])
    }

    @Test func aFullBatchIsWrittenWithoutWaitingAndTheRestFollows() {
        var m = running([job(1), job(2), job(3)], concurrency: 3, batchLimit: 2)
        _ = m.handle(.bodyEnded(succeeded(1), at: at(2)))
        // Two outcomes: a full batch goes at once, though a body still runs.
        #expect(m.handle(.bodyEnded(succeeded(2), at: at(2))) == [.write([succeeded(1), succeeded(2)], claim: 2)])
        _ = m.handle(.bodyEnded(succeeded(3), at: at(3)))
        #expect(m.handle(.written(successors: [], at: at(4))) == [.askNextDue(since: at(2)), .write([succeeded(3)], claim: 1)])
    }

    @Test func theDatabaseContactFollowsAnswersAndFailures() {
        var m = registered()
        _ = m.handle(.databaseAnswered(at: at(10_000)))
        #expect(m.contact.hasLasted(.seconds(10), at: at(10_000)))
        _ = m.handle(.databaseUnreachable)
        #expect(!m.contact.hasLasted(.seconds(10), at: at(10_000)))
        _ = m.handle(.listening(true))
        #expect(m.isListening)
    }
}
