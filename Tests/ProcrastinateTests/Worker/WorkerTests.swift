import Foundation
import Procrastinate
import Testing

/// The worker engine, on both connectors.
@Suite struct WorkerTests {
    struct Boom: Error {}
    struct Other: Error {}

    @Test(arguments: ConnectorKind.allCases)
    func runsJobsOfItsQueuesInPriorityOrderAndStopsWhenEmpty(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let journal = Journal()
            let sum = try app.task("sum") { (arguments: Sum) in journal.record("\(arguments.a)") }
            try await sum.configure(priority: 5).defer(Sum(a: 5, b: 0))
            try await sum.configure(priority: 7).defer(Sum(a: 7, b: 0))
            try await sum.configure(priority: 6).defer(Sum(a: 6, b: 0))
            let other = try await sum.configure(queue: "other").defer(Sum(a: 0, b: 0))

            try await RunningWorker(Worker(app: app, options: .test(queues: ["default"], wait: false))).finished()
            #expect(journal.labels == ["7", "6", "5"])
            let statuses = try await app.jobManager.listJobs().map(\.status)
            #expect(statuses.filter { $0 == .succeeded }.count == 3)
            #expect(try await app.jobManager.status(of: other) == .todo)
            #expect(try await app.jobManager.listWorkers().isEmpty)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aNotificationWakesAnIdleWorker(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let journal = Journal()
            let sum = try app.task("sum") { (_: Sum) in journal.record("ran") }
            let options = WorkerOptions(fetchJobPollingInterval: .seconds(3600), updateHeartbeatInterval: .seconds(1))
            let worker = RunningWorker(Worker(app: app, options: options))
            // A job deferred before the LISTEN would wait for the next poll, an hour away.
            try await eventually("the listener") { worker.worker.isListening }
            let id = try await sum.defer(Sum(a: 1, b: 1))
            try await eventually("the job to succeed", timeout: .seconds(10)) { try await app.jobManager.status(of: id) == .succeeded }
            try await worker.stop()
            #expect(journal.labels == ["ran"])
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aRetriedJobRunsExactlyMaxAttemptsPlusOneTimes(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let journal = Journal()
            let flaky = try app.task("flaky", retry: RetryStrategy(maxAttempts: 2)) { (_: NoArguments) in
                journal.record("run")
                throw Boom()
            }
            let id = try await flaky.defer()
            try await RunningWorker(Worker(app: app, options: .test(wait: false))).finished()
            #expect(journal.count("run") == 3)
            let job = try #require(try await app.jobManager.job(id: id))
            #expect(job.status == .failed && job.attempts == 3)
        }
    }

    struct Declined: Error, CustomStringConvertible {
        var description: String
    }

    @Test(arguments: ConnectorKind.allCases)
    func eachFailedAttemptKeepsItsErrorUntilTheJobIsDeleted(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let task = try app.task("pay", retry: RetryStrategy(maxAttempts: 1)) { (_: NoArguments, context: JobContext) in
                throw Declined(description: "card declined on attempt \(context.job.attempts + 1)" + String(repeating: "!", count: 5_000))
            }
            let id = try await task.defer()
            let fine = try await app.task("fine") { (_: NoArguments) in }.defer()
            try await RunningWorker(Worker(app: app, options: .test(wait: false))).finished()
            let errors = try await app.jobManager.errors(of: id)
            #expect(errors.map(\.attempt) == [1, 2])
            #expect(errors.map(\.cause.type) == [String(reflecting: Declined.self), String(reflecting: Declined.self)])
            #expect(errors.first?.cause.message.hasPrefix("card declined on attempt 1!") == true)
            #expect(errors.allSatisfy { $0.cause.message.count == JobError.Cause.maximumMessageLength })
            #expect(try await app.jobManager.errors(of: fine).isEmpty)
            #expect(try await app.jobManager.delete(id: id))
            #expect(try await app.jobManager.errors(of: id).isEmpty)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aJobFailingTwiceThenSucceedingRunsThreeTimes(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let journal = Journal()
            let task = try app.task("eventually", retry: RetryStrategy(maxAttempts: 10)) { (_: NoArguments, context: JobContext) in
                journal.record("attempt \(context.job.attempts)")
                if context.job.attempts < 2 { throw Boom() }
            }
            let id = try await task.defer()
            try await RunningWorker(Worker(app: app, options: .test(wait: false))).finished()
            #expect(journal.labels == ["attempt 0", "attempt 1", "attempt 2"])
            #expect(try await app.jobManager.job(id: id)?.status == .succeeded)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func retryOnlyTheErrorsAsked(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let journal = Journal()
            let task = try app.task("picky", retry: RetryStrategy(maxAttempts: 5, retryOn: [Boom.self])) { (_: NoArguments, context: JobContext) in
                journal.record("run")
                if context.job.attempts == 0 { throw Boom() }
                throw Other()
            }
            let id = try await task.defer()
            try await RunningWorker(Worker(app: app, options: .test(wait: false))).finished()
            #expect(journal.count("run") == 2)
            #expect(try await app.jobManager.job(id: id)?.status == .failed)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aTaskCanAskForARetryWithChanges(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let task = try app.task("move") { (_: NoArguments, context: JobContext) in
                if context.job.queue == "default" { throw RetryJob(in: .seconds(3600), priority: 9, queue: "later") }
            }
            let id = try await task.defer()
            try await RunningWorker(Worker(app: app, options: .test(wait: false))).finished()
            let job = try #require(try await app.jobManager.job(id: id))
            #expect(job.status == .todo && job.queue == "later" && job.priority == 9 && job.attempts == 1)
            #expect(try #require(job.scheduledAt) > Date().addingTimeInterval(3000))
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aTimeoutCancelsTheJobWhichFails(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let slow = try app.task("slow", timeout: .milliseconds(200)) { (_: NoArguments) in
                try await Task.sleep(for: .seconds(60))
            }
            let id = try await slow.defer()
            try await RunningWorker(Worker(app: app, options: .test(wait: false))).finished()
            #expect(try await app.jobManager.status(of: id) == .failed)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aTimeoutIsTheErrorTheRetryStrategySees(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            // The body ends with a CancellationError; the strategy must see the timeout.
            let retry = RetryStrategy(maxAttempts: 1, retryOn: [JobTimedOut.self])
            let slow = try app.task("slow", retry: retry, timeout: .milliseconds(100)) { (_: NoArguments) in
                try await Task.sleep(for: .seconds(60))
            }
            let id = try await slow.defer()
            try await RunningWorker(Worker(app: app, options: .test(wait: false))).finished()
            let job = try #require(try await app.jobManager.job(id: id))
            #expect(job.status == .failed && job.attempts == 2)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func anUnknownTaskIsLeftToTheWorkersThatKnowIt(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let journal = Journal()
            let known = try app.task("known") { (_: NoArguments) in journal.record("known") }
            let unknown = try await app.configureTask(name: "nobody.knows", lock: "L").defer([:])
            let blocked = try await known.configure(lock: "L").defer(NoArguments())
            let free = try await known.defer()
            try await RunningWorker(Worker(app: app, options: .test(wait: false))).finished()
            #expect(try await app.jobManager.status(of: unknown) == .todo)
            // A lock's job of an unknown task still holds its lock's place.
            #expect(try await app.jobManager.status(of: blocked) == .todo)
            #expect(try await app.jobManager.status(of: free) == .succeeded)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func claimingUnknownTasksFailsThem(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let id = try await app.configureTask(name: "nobody.knows").defer([:])
            var options = WorkerOptions.test(wait: false)
            options.claimUnknownTasks = true
            try await RunningWorker(Worker(app: app, options: options)).finished()
            #expect(try await app.jobManager.status(of: id) == .failed)
        }
    }

    @Test(arguments: ConnectorKind.allCases, [true, false])
    func abortReachesARunningJob(kind: ConnectorKind, listenNotify: Bool) async throws {
        try await kind.withApp { app in
            let journal = Journal()
            let slow = try app.task("slow") { (_: NoArguments, context: JobContext) in
                journal.record("started")
                // The abort cancels the body; a cancellation handler may read why.
                try await withTaskCancellationHandler {
                    try await Task.sleep(for: .seconds(60))
                } onCancel: {
                    journal.record("cancelled: \(context.abortReason?.rawValue ?? "no reason")")
                }
                journal.record("not aborted")
            }
            let id = try await slow.defer()
            let worker = RunningWorker(Worker(app: app, options: .test(listenNotify: listenNotify)))
            try await eventually("the job to start") { journal.count("started") == 1 }
            #expect(try await app.jobManager.cancel(id: id, abort: true))
            try await eventually("the job to be aborted") { try await app.jobManager.status(of: id) == .aborted }
            try await worker.stop()
            #expect(journal.labels == ["started", "cancelled: user_request"])
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func theJobAfterAnAbortedOneRunsUncancelled(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let journal = Journal()
            // Two jobs of one lock: the second is claimed by the first's outcome write, after
            // the first's task was cancelled by its abort.
            let step = try app.task("step", lock: "L") { (arguments: Sum, _: JobContext) in
                journal.record("started \(arguments.a)")
                try await Task.sleep(for: arguments.a == 0 ? .seconds(60) : .milliseconds(10))
                journal.record("finished \(arguments.a)")
            }
            let first = try await step.defer(Sum(a: 0, b: 0))
            let second = try await step.defer(Sum(a: 1, b: 0))
            let worker = RunningWorker(Worker(app: app, options: .test()))
            try await eventually("the first job to start") { journal.count("started 0") == 1 }
            #expect(try await app.jobManager.cancel(id: first, abort: true))
            try await eventually("the second job to succeed") { try await app.jobManager.status(of: second) == .succeeded }
            try await worker.stop()
            #expect(try await app.jobManager.status(of: first) == .aborted)
            #expect(journal.labels == ["started 0", "started 1", "finished 1"])
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func gracefulShutdownAbortsSlowJobsAfterTheTimeoutAndKeepsFastOnes(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let journal = Journal()
            let slow = try app.task("slow") { (_: NoArguments) in
                journal.record("slow started")
                try await Task.sleep(for: .seconds(60))
            }
            let fast = try app.task("fast") { (_: NoArguments) in
                journal.record("fast started")
                try await Task.sleep(for: .milliseconds(100))
            }
            let slowID = try await slow.defer()
            let fastID = try await fast.defer()
            let worker = RunningWorker(Worker(app: app, options: .test(concurrency: 2, shutdownGracefulTimeout: .seconds(3))))
            try await eventually("both jobs to start") { journal.labels.count == 2 }
            try await worker.stop()
            #expect(try await app.jobManager.status(of: slowID) == .aborted)
            #expect(try await app.jobManager.status(of: fastID) == .succeeded)
            #expect(try await app.jobManager.listJobs(JobFilter(status: .doing)).isEmpty)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aJobAbortedAtShutdownIsRetriedWhenItsStrategySaysSo(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let journal = Journal()
            let slow = try app.task("slow", retry: RetryStrategy(maxAttempts: 1)) { (_: NoArguments) in
                journal.record("started")
                try await Task.sleep(for: .seconds(60))
            }
            let id = try await slow.defer()
            let worker = RunningWorker(Worker(app: app, options: .test(shutdownGracefulTimeout: .milliseconds(200))))
            try await eventually("the job to start") { journal.count("started") == 1 }
            try await worker.stop()
            let job = try #require(try await app.jobManager.job(id: id))
            #expect(job.status == .todo && job.attempts == 1)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func twoWorkersNeverOverlapJobsOfOneLock(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let journal = Journal()
            let locked = try app.task("locked", lock: "L") { (arguments: Sum) in
                journal.record("start \(arguments.a)")
                try await Task.sleep(for: .milliseconds(20))
                journal.record("end \(arguments.a)")
            }
            try await locked.batchDefer((0..<20).map { Sum(a: $0, b: 0) })
            let workers = [
                RunningWorker(Worker(app: app, options: .test(concurrency: 3, name: "one"))),
                RunningWorker(Worker(app: app, options: .test(concurrency: 3, name: "two"))),
            ]
            try await eventually("every job to succeed") {
                try await app.jobManager.listJobs(JobFilter(status: .succeeded)).count == 20
            }
            for worker in workers { try await worker.stop() }
            // Strictly alternating start/end, in id order.
            #expect(journal.labels == (0..<20).flatMap { ["start \($0)", "end \($0)"] })
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func concurrencyRunsJobsTogether(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let journal = Journal()
            // Each job waits until all four started: only four jobs running at once get through.
            let meet = try app.task("meet") { (_: NoArguments) in
                journal.record("start")
                try await eventually("four jobs running together", timeout: .seconds(10)) { journal.count("start") == 4 }
                journal.record("end")
            }
            try await meet.batchDefer(Array(repeating: NoArguments(), count: 4))
            try await RunningWorker(Worker(app: app, options: .test(concurrency: 4, wait: false))).finished()
            #expect(journal.count("end") == 4)
            #expect(try await app.jobManager.listJobs(JobFilter(status: .succeeded)).count == 4)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func stalledJobsOfASilentWorkerAreRecoveredOnce(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let journal = Journal()
            let task = try app.task("recover", retry: RetryStrategy(maxAttempts: 3)) { (_: NoArguments, context: JobContext) in
                journal.record("attempt \(context.job.attempts)")
            }
            let failing = try app.task("no_retry") { (_: NoArguments, context: JobContext) in
                journal.record("no strategy, attempt \(context.job.attempts)")
            }
            // A worker that fetched two jobs, then died without a word.
            let dead = try await app.connector.registerWorker()
            let id = try await task.defer()
            let other = try await failing.defer()
            _ = try await app.connector.fetchJob(queues: nil, workerID: dead)
            _ = try await app.connector.fetchJob(queues: nil, workerID: dead)
            try await app.connector.unregisterWorker(id: dead)

            // Well above the 200 ms heartbeats, so that a busy machine does not make a live worker look dead.
            let options = WorkerOptions.test(stalledJobRecoveryThreshold: .seconds(2))
            let workers = [RunningWorker(Worker(app: app, options: options)), RunningWorker(Worker(app: app, options: options))]
            try await eventually("the recovered job to run") { try await app.jobManager.status(of: id) == .succeeded }
            // At least once by default: a task without a retry strategy runs again too.
            try await eventually("the other job to run again") { try await app.jobManager.status(of: other) == .succeeded }
            for worker in workers { try await worker.stop() }
            #expect(journal.labels.sorted() == ["attempt 1", "no strategy, attempt 1"])
            #expect(try await app.jobManager.job(id: id)?.attempts == 2)
            #expect(try await app.jobManager.job(id: other)?.attempts == 2)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func middlewareWrapsEveryJobOutermostFirst(kind: ConnectorKind) async throws {
        struct Tag: JobMiddleware {
            let name: String
            let journal: Journal
            func run(_ context: JobContext, next: (JobContext) async throws -> Void) async throws {
                journal.record("\(name) before")
                try await next(context)
                journal.record("\(name) after")
            }
        }
        try await kind.withApp { app in
            let journal = Journal()
            let task = try app.task("wrapped", middleware: [Tag(name: "task", journal: journal)]) { (_: NoArguments) in
                journal.record("body")
            }
            try await task.defer()
            var options = WorkerOptions.test(wait: false)
            options.middleware = [Tag(name: "outer", journal: journal), Tag(name: "inner", journal: journal)]
            try await RunningWorker(Worker(app: app, options: options)).finished()
            #expect(journal.labels == [
                "outer before", "inner before", "task before", "body", "task after", "inner after", "outer after",
            ])
        }
    }
}
