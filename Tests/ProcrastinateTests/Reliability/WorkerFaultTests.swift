import Foundation
@testable import Procrastinate
import ProcrastinateTesting
import Synchronization
import Testing

/// The worker when its lease is disturbed: its registration deleted, its job recovered by
/// another worker.
@Suite struct WorkerFaultTests {
    @Test(arguments: ConnectorKind.allCases)
    func aWorkerWhoseRegistrationIsDeletedRegistersAgainAndWorksOn(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let journal = Journal()
            let task = try app.task("t") { (_: NoArguments) in journal.record("ran") }
            let worker = RunningWorker(Worker(app: app, options: .test()))
            try await eventually("the worker to register") { worker.worker.workerID != nil }
            let id = try #require(worker.worker.workerID)
            // Another worker prunes it (here at once): its claims would break the foreign key.
            try await app.connector.unregisterWorker(id: id)
            try await task.defer()
            try await eventually("the job to run") { journal.count("ran") == 1 }
            try await eventually("the worker to be registered again, under its id") {
                try await app.jobManager.listWorkers().map(\.id) == [id]
            }
            try await task.defer()
            try await eventually("the next job to run") { journal.count("ran") == 2 }
            try await worker.stop()
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aJobRecoveredElsewhereIsStoppedHereAndNotRecorded(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let reasons = Mutex<[AbortReason?]>([])
            let started = Journal()
            let task = try app.task("long") { (_: NoArguments, context: JobContext) in
                started.record("started")
                do {
                    try await Task.sleep(for: .seconds(60))
                } catch {
                    reasons.withLock { $0.append(context.abortReason) }
                    throw error
                }
            }
            let id = try await task.defer()
            let worker = RunningWorker(Worker(app: app, options: .test(queues: ["default"])))
            try await eventually("the job to start") { started.count("started") == 1 }
            // Another worker takes it over (as after a pause longer than the threshold), to a
            // queue this worker does not read.
            let job = try #require(try await app.jobManager.job(id: id))
            let rescuer = try await app.connector.registerWorker()
            #expect(try await app.connector.recoverStalledJob(
                job, staleAfter: -3600, excludingWorker: rescuer, decision: RetryDecision(retryAt: Date(), queue: "elsewhere")
            ))
            try await eventually("the body to be stopped") { reasons.withLock { $0 } == [.lost] }
            try await worker.stop()
            let now = try #require(try await app.jobManager.job(id: id))
            // Its outcome was not recorded: the job waits for its next attempt.
            #expect(now.status == .todo && now.queue == "elsewhere" && now.attempts == 1)
        }
    }

    @Test func aWorkerWhosePoolStopsStopsWithTheErrorInsteadOfLooping() async throws {
        try await TestDatabase.withDatabase { db in
            let connector = PostgresConnector(settings: try #require(db.settings), logger: TestDatabase.logger)
            let app = App(connector: connector, logger: TestDatabase.logger)
            _ = try app.task("t") { (_: NoArguments) in }
            let worker = Worker(app: app, options: .test())
            let running = try await connector.run { _ in
                let running = Task { try await worker.run() }
                try await eventually("the worker to register") { worker.workerID != nil }
                return running
            }
            // The pool stopped under the running worker: nothing can heal that.
            await #expect(throws: AppNotOpen.self) {
                try await within(.seconds(30), waitingFor: "the worker to stop") { try await running.value }
            }
        }
    }

    @Test func recoveryWaitsForAnUnbrokenContactOfTheThreshold() {
        let start = ContinuousClock.now
        var contact = DatabaseContact(maxGap: .seconds(2))
        #expect(!contact.hasLasted(.zero, at: start))
        for second in 0...5 { contact.answered(at: start + .seconds(second)) }
        #expect(!contact.hasLasted(.seconds(6), at: start + .seconds(5)))
        #expect(contact.hasLasted(.seconds(5), at: start + .seconds(5)))
        // No answer for longer than the gap: not in touch any more.
        #expect(!contact.hasLasted(.seconds(5), at: start + .seconds(8)))
        // A failure: the clock starts again at the next answer.
        contact.lost()
        contact.answered(at: start + .seconds(6))
        #expect(!contact.hasLasted(.seconds(5), at: start + .seconds(6)))
        for second in 7...11 { contact.answered(at: start + .seconds(second)) }
        #expect(contact.hasLasted(.seconds(5), at: start + .seconds(11)))
        // An answer that waited through an outage (a gap, but no failure) starts it again too.
        contact.answered(at: start + .seconds(20))
        #expect(!contact.hasLasted(.seconds(5), at: start + .seconds(20)))
        for second in 21...25 { contact.answered(at: start + .seconds(second)) }
        #expect(contact.hasLasted(.seconds(5), at: start + .seconds(25)))
    }

    @Test func aStalledJobRunsAgainByDefaultUpToItsRetries() throws {
        let app = App(connector: InMemoryConnector())
        _ = try app.task("plain") { (_: NoArguments) in }
        _ = try app.task("strict", retry: RetryStrategy(maxAttempts: 1, retryOn: [TimeoutError.self])) { (_: NoArguments) in }
        let now = Date()
        let worker = Worker(app: app, options: WorkerOptions(stalledJobs: .retry(upTo: 2)))
        let plain = { (attempts: Int) in Job(id: 1, queue: "default", taskName: "plain", status: .doing, attempts: attempts) }
        #expect(worker.recoveryDecision(for: plain(0), now: now) == RetryDecision(retryAt: now))
        #expect(worker.recoveryDecision(for: plain(1), now: now) == RetryDecision(retryAt: now))
        #expect(worker.recoveryDecision(for: plain(2), now: now) == nil)
        // Unknown tasks too (another language's): at least once.
        let unknown = Job(id: 2, queue: "default", taskName: "python.task", status: .doing)
        #expect(worker.recoveryDecision(for: unknown, now: now) == RetryDecision(retryAt: now))
        // A strategy decides for its task: this one retries timeouts only.
        let strict = Job(id: 3, queue: "default", taskName: "strict", status: .doing)
        #expect(worker.recoveryDecision(for: strict, now: now) == nil)
        let failing = Worker(app: app, options: WorkerOptions(stalledJobs: .fail))
        #expect(failing.recoveryDecision(for: plain(0), now: now) == nil)
    }

    struct TimeoutError: Error {}
}
