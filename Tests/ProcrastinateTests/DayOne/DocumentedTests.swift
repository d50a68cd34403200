import Procrastinate
import ProcrastinateTesting
import Synchronization
import Testing

/// The test the "Testing your tasks" article shows, run as it is shown.
@Suite struct DocumentedTests {
    @Test func welcomeMailsAreSent() async throws {
        let app = App(connector: InMemoryConnector())
        let sent = Mutex<[String]>([])
        let sendEmail = try app.task("send_email") { (email: SendEmail) in
            sent.withLock { $0.append(email.to) }
        }

        try await app.run {
            try await sendEmail.defer(SendEmail(to: "ada@example.com", subject: "Welcome"))
            try await app.workUntilStopped(WorkerOptions(wait: false))
        }

        #expect(sent.withLock { $0 } == ["ada@example.com"])
        #expect(try await app.jobManager.listJobs().map(\.status) == [.succeeded])
    }

    /// The set-up the article shows for time: one manual clock for the worker and the store.
    @Test func aJobScheduledForLaterRunsWhenTheManualClockGetsThere() async throws {
        let clock = ManualWorkerClock()
        let app = App(connector: InMemoryConnector(clock: { clock.date }))
        let report = try app.task("report") { (_: NoArguments) in }
        let worker = Worker(app: app, options: WorkerOptions(clock: clock))

        let id = try await report.configure(scheduleIn: .seconds(3)).defer(NoArguments())
        let running = RunningWorker(worker)
        // (`scheduleIn` counts from the system's date, a few milliseconds past the clock's.)
        try await eventually("a wait for the job's instant") { clock.pendingWaits.contains { $0 > .seconds(2) && $0 < .seconds(4) } }
        #expect(try await app.jobManager.status(of: id) == .todo)
        clock.advance(by: .seconds(4))
        try await eventually("the job to succeed") { try await app.jobManager.status(of: id) == .succeeded }
        try await running.stop()
    }
}
