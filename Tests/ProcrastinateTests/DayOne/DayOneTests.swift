import Foundation
import Procrastinate
import ProcrastinateTesting
import Testing

/// What a new user meets first: timing, typed names, registration-time checks, errors.
@Suite struct DayOneTests {
    struct FirstAttemptFails: Error {}

    @Test(arguments: ConnectorKind.allCases)
    func aRetryRunsWhenItIsDueNotAtTheNextPoll(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let attempts = Journal()
            let flaky = try app.task("flaky", retry: RetryStrategy(maxAttempts: 1, wait: 1)) { (_: NoArguments, context: JobContext) in
                attempts.record("\(context.job.attempts)")
                if context.job.attempts == 0 { throw FirstAttemptFails() }
            }
            // Polling once an hour: only the retry's own due time can wake the worker in time.
            let worker = RunningWorker(Worker(app: app, options: WorkerOptions(fetchJobPollingInterval: .seconds(3600))))
            try await eventually("the listener") { worker.worker.isListening }
            let id = try await flaky.defer(NoArguments())
            try await eventually("the retry to succeed", timeout: .seconds(15)) { try await app.jobManager.status(of: id) == .succeeded }
            // A job deferred for later wakes the idle worker when it is due, too.
            let later = try await flaky.configure(scheduleIn: .seconds(1)).defer(NoArguments())
            try await eventually("the scheduled job to succeed", timeout: .seconds(15)) { try await app.jobManager.status(of: later) == .succeeded }
            try await worker.stop()
            #expect(attempts.labels == ["0", "1", "0", "1"])
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func theNextScheduledJobCountsJobsThatBecameDueSinceTheEmptyFetch(kind: ConnectorKind) async throws {
        try await kind.withConnector { connector in
            #expect(try await connector.nextScheduledJob(queues: nil, taskNames: nil, scheduledAfter: Date().addingTimeInterval(-1)) == nil)
            // Margins of minutes: a loaded machine may take seconds between two statements.
            _ = try await connector.deferJobs([
                NewJob(queue: "a", taskName: "t", scheduledAt: Date().addingTimeInterval(-600)),
                NewJob(queue: "b", taskName: "t", scheduledAt: Date().addingTimeInterval(-1)),
                NewJob(queue: "a", taskName: "u", scheduledAt: Date().addingTimeInterval(3600)),
            ])
            // Due a second ago: counted (at once) only when the empty fetch began before.
            let justDue = try #require(try await connector.nextScheduledJob(queues: nil, taskNames: nil, scheduledAfter: Date().addingTimeInterval(-300)))
            #expect(justDue <= .zero && justDue > .seconds(-300))
            let later = try #require(try await connector.nextScheduledJob(queues: nil, taskNames: nil, scheduledAfter: Date().addingTimeInterval(-0.100)))
            #expect(later > .seconds(3000) && later <= .seconds(3600))
            // Filtered by queue and task.
            #expect(try await connector.nextScheduledJob(queues: ["a"], taskNames: ["t"], scheduledAfter: Date().addingTimeInterval(-300)) == nil)
            #expect(try await connector.nextScheduledJob(queues: ["b"], taskNames: nil, scheduledAfter: Date().addingTimeInterval(-0.100)) == nil)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aTypedTaskNameDefersFromAnywhereAndChecksArguments(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let sumName = TaskName<Sum>("sum")
            let ran = Journal()
            _ = try app.task(sumName.name, queue: "math") { (arguments: Sum) in ran.record("\(arguments.a + arguments.b)") }
            let id = try await app.defer(sumName, Sum(a: 3, b: 5))
            #expect(try await app.jobManager.job(id: id)?.queue == "math")
            // The same name with another argument type: refused before anything is inserted.
            await #expect(throws: ArgumentsError.self) {
                try await app.defer(TaskName<SendEmail>("sum"), SendEmail(to: "a@b.c", subject: "Hi"))
            }
            // By name with raw JSON, a task this app knows checks its arguments too.
            await #expect(throws: ArgumentsError.self) {
                try await app.configureTask(name: "sum").defer(["a": "three"])
            }
            // A task of another service: deferred as given.
            let elsewhere = try await app.defer(TaskName<SendEmail>("emails:send"), SendEmail(to: "a@b.c", subject: "Hi"))
            #expect(try await app.jobManager.listJobs().map(\.id) == [id, elsewhere])
            try await RunningWorker(Worker(app: app, options: .test(queues: ["math"], wait: false))).finished()
            #expect(ran.labels == ["8"])
        }
    }

    @Test func aQueueNameTooLongIsRefusedAtRegistration() {
        let app = App(connector: InMemoryConnector())
        let name = String(repeating: "q", count: 41)
        #expect(throws: InvalidQueueName(name: name)) {
            _ = try app.task("t", queue: name) { (_: NoArguments) in }
        }
        #expect(app.task(named: "t") == nil)
    }

    @Test func aPeriodicTaskThatCannotDecodeItsTickSaysWhatTicksCarry() throws {
        let app = App(connector: InMemoryConnector())
        let report = try app.task("report") { (_: Sum) in }
        do {
            try app.periodic(report, cron: "0 * * * *")
            Issue.record("registered a periodic task that cannot decode its ticks")
        } catch {
            #expect("\(error)".contains(#"each tick's job receives {"timestamp": <the tick's Unix time, an integer>}"#), "\(error)")
            #expect(error.localizedDescription == "\(error)")
        }
    }
}
