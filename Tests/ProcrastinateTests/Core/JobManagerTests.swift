import Foundation
import Procrastinate
import Testing

/// The administration API, on both connectors.
@Suite struct JobManagerTests {
    @Test(arguments: ConnectorKind.allCases)
    func cancelAbortAndDelete(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let sum = try app.task("sum") { (_: Sum) in }
            let manager = app.jobManager
            let waiting = try await sum.defer(Sum(a: 1, b: 1))
            #expect(try await manager.cancel(id: waiting))
            #expect(try await manager.status(of: waiting) == .cancelled)
            #expect(try await manager.cancel(id: waiting) == false)
            #expect(try await manager.cancel(id: 999_999) == false)

            let deleted = try await sum.defer(Sum(a: 2, b: 2))
            #expect(try await manager.cancel(id: deleted, delete: true))
            #expect(try await manager.status(of: deleted) == nil)

            let running = try await sum.defer(Sum(a: 3, b: 3))
            #expect(try await app.connector.fetchJob(queues: nil, workerID: nil)?.id == running)
            #expect(try await manager.cancel(id: running) == false)
            #expect(try await manager.cancel(id: running, abort: true))
            let job = try #require(try await manager.job(id: running))
            #expect(job.status == .doing && job.abortRequested)
            #expect(try await app.connector.jobIDsToAbort(queue: nil) == [running])
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func deleteTakesAnyJobButARunningOne(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let sum = try app.task("sum") { (_: Sum) in }
            let manager = app.jobManager
            let running = try await sum.defer(Sum(a: 1, b: 1))
            let failed = try await sum.defer(Sum(a: 2, b: 2))
            let waiting = try await sum.defer(Sum(a: 3, b: 3))
            #expect(try await app.connector.fetchJob(queues: nil, workerID: nil)?.id == running)
            #expect(try await app.connector.fetchJob(queues: nil, workerID: nil)?.id == failed)
            try await app.connector.finishJob(id: failed, status: .failed, deleteJob: false)
            #expect(try await manager.delete(id: running) == false)
            #expect(try await manager.delete(id: failed))
            #expect(try await manager.delete(id: waiting))
            #expect(try await manager.delete(id: waiting) == false)
            #expect(try await manager.listJobs().map(\.id) == [running])
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func retryAFailedJobWithNewValues(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let sum = try app.task("sum", lock: "old") { (_: Sum) in }
            let id = try await sum.defer(Sum(a: 1, b: 1))
            _ = try await app.connector.fetchJob(queues: nil, workerID: nil)
            try await app.connector.finishJob(id: id, status: .failed, deleteJob: false)
            let at = Date(timeIntervalSince1970: 4_000_000_000)
            try await app.jobManager.retry(id: id, at: at, priority: 9, queue: "again", lock: "new")
            let job = try #require(try await app.jobManager.job(id: id))
            #expect(job.status == .todo && job.attempts == 2 && job.scheduledAt == at)
            #expect(job.priority == 9 && job.queue == "again" && job.lock == "new")

            let error = await #expect(throws: InvalidJobState.self) { try await app.jobManager.retry(id: id) }
            #expect(error?.description == "job \(id): Job was not found or has an invalid status to retry (job id: \(id))")
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func listingsAndCounts(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let sum = try app.task("sum", queue: "math") { (_: Sum) in }
            let send = try app.task("send", queue: "emails") { (_: SendEmail) in }
            let first = try await sum.configure(lock: "a").defer(Sum(a: 1, b: 1))
            try await sum.configure(lock: "a").defer(Sum(a: 2, b: 2))
            let mail = try await send.configure(lock: "b", queueingLock: "q").defer(SendEmail(to: "x", subject: "y"))
            _ = try await app.connector.fetchJob(queues: ["math"], workerID: nil)
            try await app.connector.finishJob(id: first, status: .succeeded, deleteJob: false)
            _ = try await app.jobManager.cancel(id: mail)

            let manager = app.jobManager
            #expect(try await manager.listJobs(JobFilter(queue: "math")).map(\.id).count == 2)
            #expect(try await manager.listJobs(JobFilter(status: .cancelled)).map(\.id) == [mail])
            #expect(try await manager.listJobs(JobFilter(queueingLock: "q")).map(\.id) == [mail])

            let queues = try await manager.listQueues()
            #expect(queues.map(\.name) == ["emails", "math"])
            #expect(queues[1].byStatus == [.succeeded: 1, .todo: 1] && queues[1].total == 2)
            #expect(queues[0][.cancelled] == 1)
            #expect(try await manager.listTasks(JobFilter(status: .todo)).map(\.name) == ["sum"])
            let locks = try await manager.listLocks()
            #expect(locks.map(\.name) == ["a", "b"] && locks[0].total == 2)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func workersAndStalledJobs(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let sum = try app.task("sum") { (_: Sum) in }
            let worker = try await app.connector.registerWorker()
            let orphanWorker = try await app.connector.registerWorker()
            let id = try await sum.defer(Sum(a: 1, b: 1))
            let orphan = try await sum.defer(Sum(a: 2, b: 2))
            _ = try await app.connector.fetchJob(queues: nil, workerID: worker)
            _ = try await app.connector.fetchJob(queues: nil, workerID: orphanWorker)
            #expect(try await app.jobManager.listWorkers().map(\.id) == [worker, orphanWorker])
            #expect(try await app.jobManager.stalledJobs().isEmpty)

            try await app.connector.unregisterWorker(id: orphanWorker)
            // Its job keeps that worker's last heartbeat: it is not stalled before that is old.
            #expect(try await app.jobManager.stalledJobs().isEmpty)
            // A heartbeat older than zero seconds is stalled.
            #expect(try await app.jobManager.stalledJobs(secondsSinceHeartbeat: -1).map(\.id) == [id, orphan])
            // A job claimed without a worker has no sign of life at all.
            let anonymous = try await sum.defer(Sum(a: 3, b: 3))
            _ = try await app.connector.fetchJob(queues: nil, workerID: nil)
            #expect(try await app.jobManager.stalledJobs().map(\.id) == [anonymous])
            #expect(try await app.connector.pruneStalledWorkers(olderThan: -1) == [worker])
            #expect(try await app.jobManager.listWorkers().isEmpty)
            #expect(try await app.jobManager.job(id: id)?.workerID == nil)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func anEarlierWaitingJobOfALockBlocksALaterOne(kind: ConnectorKind) async throws {
        // The rule Python Procrastinate's in-memory fake gets wrong.
        try await kind.withApp { app in
            let sum = try app.task("sum", lock: "L") { (_: Sum) in }
            try await sum.configure(queue: "unwatched").defer(Sum(a: 1, b: 1))
            try await sum.configure(queue: "watched").defer(Sum(a: 2, b: 2))
            #expect(try await app.connector.fetchJob(queues: ["watched"], workerID: nil) == nil)
            let high = try await sum.configure(queue: "watched", priority: 5).defer(Sum(a: 3, b: 3))
            #expect(try await app.connector.fetchJob(queues: ["watched"], workerID: nil)?.id == high)
            #expect(try await app.connector.fetchJob(queues: nil, workerID: nil) == nil)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func periodicTicksAreDeferredOnce(kind: ConnectorKind) async throws {
        try await kind.withConnector { connector in
            let job = NewJob(queue: "periodic", taskName: "tick", arguments: #"{"timestamp": 60}"#)
            let first = try await connector.deferPeriodicJob(job, periodicID: "", timestamp: 60)
            #expect(first != nil)
            #expect(try await connector.deferPeriodicJob(job, periodicID: "", timestamp: 60) == nil)
            #expect(try await connector.deferPeriodicJob(job, periodicID: "other", timestamp: 60) != nil)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aLateSchedulerFillsAMissedTickButNeverDefersOneTwice(kind: ConnectorKind) async throws {
        try await kind.withConnector { connector in
            let job = NewJob(queue: "periodic", taskName: "tick", arguments: "{}")
            let first = try await connector.deferPeriodicJob(job, periodicID: "", timestamp: 60)
            #expect(first != nil)
            // A scheduler that started late deferred 62 first; one still at 61 fills it in.
            #expect(try await connector.deferPeriodicJob(job, periodicID: "", timestamp: 62) != nil)
            #expect(try await connector.deferPeriodicJob(job, periodicID: "", timestamp: 61) != nil)
            for tick: Int64 in [60, 61, 62] {
                #expect(try await connector.deferPeriodicJob(job, periodicID: "", timestamp: tick) == nil)
            }
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aTickOlderThanEveryRecordMayHaveBeenForgottenAndIsSkipped(kind: ConnectorKind) async throws {
        try await kind.withConnector { connector in
            let job = NewJob(queue: "periodic", taskName: "tick", arguments: "{}")
            let late = 60 + PeriodicTickRecord.retention + 1
            let first = try await connector.deferPeriodicJob(job, periodicID: "", timestamp: 60)
            #expect(first != nil)
            // Deferring a tick more than the retention later forgets 60 in the table.
            #expect(try await connector.deferPeriodicJob(job, periodicID: "", timestamp: late) != nil)
            #expect(try await connector.deferPeriodicJob(job, periodicID: "", timestamp: 60) == nil)
            #expect(try await connector.deferPeriodicJob(job, periodicID: "", timestamp: 61) == nil)
            #expect(try await connector.deferPeriodicJob(job, periodicID: "", timestamp: late + 1) != nil)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func finishingRejectsWrongStates(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let sum = try app.task("sum") { (_: Sum) in }
            let id = try await sum.defer(Sum(a: 1, b: 1))
            let wrongStatus = await #expect(throws: InvalidJobState.self) {
                try await app.connector.finishJob(id: id, status: .todo, deleteJob: false)
            }
            #expect(wrongStatus?.reason == #"End status should be either "succeeded", "failed" or "aborted" (job id: \#(id))"#)
            try await app.connector.finishJob(id: id, status: .succeeded, deleteJob: false)
            #expect(try await app.jobManager.job(id: id)?.attempts == 0)
            let finished = await #expect(throws: InvalidJobState.self) {
                try await app.connector.finishJob(id: id, status: .failed, deleteJob: false)
            }
            #expect(finished?.reason == #"Job was not found or not in "doing" or "todo" status (job id: \#(id))"#)
        }
    }
}
