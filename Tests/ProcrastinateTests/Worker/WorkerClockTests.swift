import Foundation
import Procrastinate
import ProcrastinateTesting
import Testing

/// The worker's driver on a clock that moves only when the test says: whatever wakes an idle
/// worker (a job scheduled for later, a rate window opening) wakes it at that instant of the
/// clock it was given, with its poll an hour away, and nothing before.
@Suite struct WorkerClockTests {
    /// A worker of `app` on `clock`, polling once an hour, without side work.
    private func worker(_ app: App, clock: ManualWorkerClock) -> RunningWorker {
        RunningWorker(Worker(app: app, options: WorkerOptions(
            fetchJobPollingInterval: .seconds(3600), stalledJobRecoveryThreshold: nil, runsPeriodicDeferrer: false, clock: clock
        )))
    }

    @Test func aJobScheduledForLaterStartsWhenTheGivenClockReachesIt() async throws {
        let clock = ManualWorkerClock()
        let connector = InMemoryConnector(clock: { clock.date })
        let app = App(connector: connector)
        let journal = Journal()
        let later = try app.task("later") { (_: NoArguments) in journal.record("ran") }
        let id = try await later.configure(scheduleAt: clock.date.addingTimeInterval(30)).defer(NoArguments())
        let running = worker(app, clock: clock)

        // The worker found nothing, asked when the job is due, and waits for that instant.
        try await eventually("a wait for the job's instant") { clock.pendingWaits.contains { $0 > .seconds(29) && $0 <= .seconds(30) } }
        clock.advance(by: .seconds(29))
        #expect(try await app.jobManager.status(of: id) == .todo)
        clock.advance(by: .seconds(1))
        try await eventually("the job to succeed") { try await app.jobManager.status(of: id) == .succeeded }
        try await running.stop()
        #expect(journal.labels == ["ran"])
    }

    @Test func aRateWindowThatOpensWakesTheWorkerAtItsInstant() async throws {
        let clock = ManualWorkerClock()
        let connector = InMemoryConnector(clock: { clock.date })
        let app = App(connector: connector)
        let journal = Journal()
        let paced = try app.task("paced", limit: Limit(rate: Limit.Rate(1, per: .seconds(10)))) { (_: NoArguments) in journal.record("ran") }
        let first = try await paced.defer()
        let second = try await paced.defer()
        let running = worker(app, clock: clock)

        try await eventually("the first job to succeed") { try await app.jobManager.status(of: first) == .succeeded }
        // The window is full for 10 s: the worker waits for its opening, not for its poll.
        try await eventually("a wait for the window's opening") { clock.pendingWaits.contains { $0 > .seconds(9) && $0 <= .seconds(10) } }
        #expect(try await app.jobManager.status(of: second) == .todo)
        clock.advance(by: .seconds(10))
        try await eventually("the second job to succeed") { try await app.jobManager.status(of: second) == .succeeded }
        try await running.stop()
        #expect(journal.labels == ["ran", "ran"])
    }
}
