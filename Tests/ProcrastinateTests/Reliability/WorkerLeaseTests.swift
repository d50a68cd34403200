import Foundation
import PostgresNIO
import Procrastinate
import ProcrastinateTesting
import Synchronization
import Testing

/// A store whose time a test moves on: the in-memory connector's clock, or on PostgreSQL every
/// heartbeat, orphan record and event moved back.
struct ClockedStore: Sendable {
    let connector: any Connector
    let passes: @Sendable (_ seconds: Double) async throws -> Void

    static func with<Result: Sendable>(_ kind: ConnectorKind, _ body: (ClockedStore) async throws -> Result) async throws -> Result {
        switch kind {
        case .postgres:
            return try await TestDatabase.withDatabase { db in
                try await body(ClockedStore(connector: db) { seconds in
                    try await db.execute(
                        """
                        WITH workers AS (
                            UPDATE procrastinate_workers SET last_heartbeat = last_heartbeat - make_interval(secs => \(seconds))
                        ), orphans AS (
                            UPDATE procrastinate_swift_orphaned_jobs SET last_heartbeat = last_heartbeat - make_interval(secs => \(seconds))
                        )
                        UPDATE procrastinate_events SET at = at - make_interval(secs => \(seconds))
                        """
                    )
                })
            }
        case .memory:
            let offset = Mutex<Double>(0)
            let connector = InMemoryConnector { Date().addingTimeInterval(offset.withLock { $0 }) }
            return try await body(ClockedStore(connector: connector) { seconds in offset.withLock { $0 += seconds } })
        }
    }
}

/// The database side of worker leases, on both connectors: liveness by a worker's own
/// heartbeat, re-registration, fenced outcomes, released claims.
@Suite struct WorkerLeaseTests {
    let registration = WorkerRegistration(name: "a", queues: nil, taskNames: nil)

    /// A job deferred and claimed by worker `workerID`.
    func claimedJob(_ connector: any Connector, workerID: Int64, lock: String? = nil) async throws -> Job {
        let id = try await connector.deferJobs([NewJob(queue: "default", taskName: "t", lock: lock, arguments: "{}")])[0]
        let claimed = try await connector.fetchJobs(queues: nil, workerID: workerID, limit: 1, taskNames: nil)
        #expect(claimed.map(\.id) == [id])
        return try #require(claimed.first)
    }

    @Test(arguments: ConnectorKind.allCases)
    func aPrunedWorkersJobIsStalledOnlyOnceItsOwnHeartbeatIsOld(kind: ConnectorKind) async throws {
        try await ClockedStore.with(kind) { store in
            let db = store.connector
            let paused = try await db.registerWorker(registration)
            let job = try await claimedJob(db, workerID: paused)
            try await store.passes(10)
            // Another worker prunes it after 5 s of silence: its job loses its worker...
            #expect(try await db.pruneStalledWorkers(olderThan: 5) == [paused])
            #expect(try await db.listJobs(JobFilter(id: job.id)).first?.workerID == nil)
            // ...yet is stalled only once 60 s passed since the paused worker's last heartbeat.
            #expect(try await db.stalledJobs(secondsSinceHeartbeat: 60, queue: nil, taskName: nil).isEmpty)
            #expect(try await !db.recoverStalledJob(job, staleAfter: 60, excludingWorker: nil, decision: RetryDecision(retryAt: Date())))
            try await store.passes(51)
            #expect(try await db.stalledJobs(secondsSinceHeartbeat: 60, queue: nil, taskName: nil).map(\.id) == [job.id])
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aPrunedWorkerRegistersAgainAndTakesItsJobsBack(kind: ConnectorKind) async throws {
        try await ClockedStore.with(kind) { store in
            let db = store.connector
            let paused = try await db.registerWorker(registration)
            let job = try await claimedJob(db, workerID: paused)
            try await store.passes(10)
            _ = try await db.pruneStalledWorkers(olderThan: 5)
            let reply = try await db.heartbeat(
                workerID: paused, holding: [HeldJob(id: job.id, attempts: 0)], registration: registration, strayGrace: .seconds(60)
            )
            #expect(reply == HeartbeatReply(registeredAgain: true, lostJobIDs: [], releasedJobIDs: []))
            #expect(try await db.listWorkers().map(\.id) == [paused])
            #expect(try await db.listWorkers().first?.registration == registration)
            #expect(try await db.listJobs(JobFilter(id: job.id)).first?.workerID == paused)
            // Its claims work again (the foreign key to its row holds).
            _ = try await db.deferJobs([NewJob(queue: "default", taskName: "t", arguments: "{}")])
            #expect(try await db.fetchJobs(queues: nil, workerID: paused, limit: 1, taskNames: nil).count == 1)
            try await store.passes(120)
            // Its job is its own again: stalled only with its heartbeat.
            _ = try await db.heartbeat(workerID: paused, holding: [HeldJob(id: job.id, attempts: 0)], registration: registration, strayGrace: .seconds(600))
            #expect(try await db.stalledJobs(secondsSinceHeartbeat: 60, queue: nil, taskName: nil).isEmpty)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aWorkerBackAfterRecoveryLearnsItLostItsJobAndCannotRecordIt(kind: ConnectorKind) async throws {
        try await ClockedStore.with(kind) { store in
            let db = store.connector
            let paused = try await db.registerWorker(registration)
            let job = try await claimedJob(db, workerID: paused, lock: "L")
            try await store.passes(100)
            let rescuer = try await db.registerWorker(registration)
            let stalled = try await db.stalledJobs(secondsSinceHeartbeat: 60, queue: nil, taskName: nil)
            #expect(stalled.map(\.id) == [job.id])
            // A worker never recovers its own job.
            #expect(try await !db.recoverStalledJob(stalled[0], staleAfter: 60, excludingWorker: paused, decision: RetryDecision(retryAt: Date())))
            #expect(try await db.recoverStalledJob(stalled[0], staleAfter: 60, excludingWorker: rescuer, decision: RetryDecision(retryAt: Date())))
            let again = try await db.fetchJobs(queues: nil, workerID: rescuer, limit: 1, taskNames: nil)
            #expect(again.map(\.id) == [job.id] && again.first?.attempts == 1)

            // The paused worker comes back: its heartbeat says the job is lost...
            let reply = try await db.heartbeat(
                workerID: paused, holding: [HeldJob(id: job.id, attempts: 0)], registration: registration, strayGrace: .seconds(60)
            )
            #expect(reply.lostJobIDs == [job.id])
            // ...and its outcome, fenced by the attempt it ran, is not recorded over the new one.
            let late = JobOutcome(jobID: job.id, status: .succeeded, deleteJob: false, attempts: 0)
            #expect(try await db.finishJobs([late]) == [job.id])
            let lateRetry = JobOutcome(jobID: job.id, retry: RetryDecision(retryAt: Date()), attempts: 0)
            #expect(try await db.finishJobs([lateRetry]) == [job.id])
            let current = try #require(try await db.listJobs(JobFilter(id: job.id)).first)
            #expect(current.status == .doing && current.workerID == rescuer && current.attempts == 1)
            // The new holder records it.
            #expect(try await db.finishJobs([JobOutcome(jobID: job.id, status: .succeeded, deleteJob: false, attempts: 1)]).isEmpty)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func retriesAreRecordedInTheBatchLikeRetryJob(kind: ConnectorKind) async throws {
        try await ClockedStore.with(kind) { store in
            let db = store.connector
            let worker = try await db.registerWorker(registration)
            let retried = try await claimedJob(db, workerID: worker, lock: "L")
            let aborting = try await claimedJob(db, workerID: worker)
            _ = try await db.cancelJob(id: aborting.id, abort: true, deleteJob: false)
            let later = Date().addingTimeInterval(3600)
            let leftAlone = try await db.finishJobs([
                JobOutcome(jobID: retried.id, retry: RetryDecision(retryAt: later, priority: 7, queue: "slow", lock: "M"), attempts: 0),
                JobOutcome(jobID: aborting.id, retry: RetryDecision(retryAt: later), attempts: 0),
            ])
            #expect(leftAlone.isEmpty)
            let job = try #require(try await db.listJobs(JobFilter(id: retried.id)).first)
            #expect(job.status == .todo && job.attempts == 1 && job.priority == 7 && job.queue == "slow" && job.lock == "M")
            #expect(abs(try #require(job.scheduledAt).timeIntervalSince(later)) < 0.001)
            // A job whose abort was requested fails instead, as procrastinate_retry_job_v2 does.
            #expect(try await db.jobStatus(id: aborting.id) == .failed)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func claimsTakeOnlyTheTasksNamed(kind: ConnectorKind) async throws {
        try await ClockedStore.with(kind) { store in
            let db = store.connector
            let jobs = [
                NewJob(queue: "default", taskName: "python_only", priority: 9, arguments: "{}"),
                NewJob(queue: "default", taskName: "python_only", lock: "L", arguments: "{}"),
                NewJob(queue: "default", taskName: "ours", lock: "L", arguments: "{}"),
                NewJob(queue: "default", taskName: "ours", priority: 1, arguments: "{}"),
                NewJob(queue: "other", taskName: "ours", priority: 2, arguments: "{}"),
            ]
            let ids = try await db.deferJobs(jobs)
            let claimed = try await db.fetchJobs(queues: ["default"], workerID: nil, limit: 10, taskNames: ["ours"])
            // L's head belongs to another task: L's later job waits behind it.
            #expect(claimed.map(\.id) == [ids[3]])
            #expect(try await db.fetchJobs(queues: nil, workerID: nil, limit: 10, taskNames: ["ours", "python_only"]).map(\.id) == [ids[0], ids[4], ids[1]])
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func claimsThatNeverReachedTheirWorkerGoBackToTheQueue(kind: ConnectorKind) async throws {
        try await ClockedStore.with(kind) { store in
            let db = store.connector
            let worker = try await db.registerWorker(registration)
            let held = try await claimedJob(db, workerID: worker)
            let stray = try await claimedJob(db, workerID: worker)
            let holding = [HeldJob(id: held.id, attempts: 0)]
            // A claim younger than the grace may still be on its way to the worker.
            var reply = try await db.heartbeat(workerID: worker, holding: holding, registration: registration, strayGrace: .seconds(60))
            #expect(reply.releasedJobIDs.isEmpty)
            try await store.passes(61)
            reply = try await db.heartbeat(workerID: worker, holding: holding, registration: registration, strayGrace: .seconds(60))
            #expect(reply == HeartbeatReply(registeredAgain: false, lostJobIDs: [], releasedJobIDs: [stray.id]))
            let released = try #require(try await db.listJobs(JobFilter(id: stray.id)).first)
            #expect(released.status == .todo && released.workerID == nil && released.attempts == 0)
            #expect(try await db.jobStatus(id: held.id) == .doing)
        }
    }
}
