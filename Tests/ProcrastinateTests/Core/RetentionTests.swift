import Cron
import Foundation
import PostgresNIO
import ProcrastinateTesting
import Testing

@testable import Procrastinate

/// Retention: `JobManager.prune` in batches, `app.retain(…)` as a periodic task, and
/// `procrastinate jobs prune`.
@Suite struct RetentionTests {
    /// Jobs of every status, one per status and queue pair; returns their ids by status.
    func seed(_ app: App) async throws -> [JobStatus: [Int64]] {
        let connector = app.connector
        var ids: [JobStatus: [Int64]] = [:]
        for queue in ["a", "b"] {
            for status in [JobStatus.succeeded, .failed, .cancelled, .aborted, .doing, .todo] {
                let id = try await app.configureTask(name: "t", queue: queue).defer([:])
                switch status {
                case .todo: break
                case .cancelled: _ = try await connector.cancelJob(id: id, abort: false, deleteJob: false)
                default:
                    _ = try await connector.fetchJobs(queues: [queue], workerID: nil, limit: 1)
                    if status != .doing { try await connector.finishJob(id: id, status: status, deleteJob: false) }
                }
                ids[status, default: []].append(id)
            }
        }
        return ids
    }

    @Test func pruningGoesByStatusAgeAndQueueInBatches() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let old = try await seed(app)
            try await db.execute("UPDATE procrastinate_events SET at = now() - interval '8 days'")
            let recent = try await seed(app)
            let manager = app.jobManager

            // Of queue a only, succeeded and failed, in batches of 5 rows: the old ones go.
            #expect(try await manager.prune(statuses: [.succeeded, .failed], olderThan: .days(7), queue: "a", batchSize: 5) == 2)
            var left = Set(try await manager.listJobs().map(\.id))
            #expect(!left.contains(old[.succeeded]![0]) && !left.contains(old[.failed]![0]))
            #expect(left.contains(old[.succeeded]![1]) && left.contains(recent[.succeeded]![0]))

            // Every queue, every final status, batches of one row: waiting and running jobs stay.
            #expect(try await manager.prune(statuses: [.succeeded, .failed, .cancelled, .aborted], olderThan: .days(7), batchSize: 1) == 6)
            left = Set(try await manager.listJobs().map(\.id))
            #expect(left == Set(old[.todo]! + old[.doing]! + recent.values.joined()))
            // Their events went with them.
            let orphans = try await db.value("SELECT count(*) FROM procrastinate_events WHERE job_id NOT IN (SELECT id FROM procrastinate_jobs)", as: Int64.self)
            #expect(orphans == 0)
            #expect(try await manager.prune(statuses: [.succeeded], olderThan: .days(7)) == 0)
        }
    }

    @Test func theInMemoryConnectorPrunesTheSameWay() async throws {
        let clock = InMemoryConnectorTests.Clock()
        let app = App(connector: InMemoryConnector(clock: { clock.date }))
        let old = try await seed(app)
        clock.advance(8 * 86_400)
        let recent = try await seed(app)
        #expect(try await app.jobManager.prune(statuses: [.succeeded, .failed], olderThan: .days(7), queue: "a", batchSize: 5) == 2)
        #expect(try await app.jobManager.prune(statuses: [.succeeded, .failed, .cancelled, .aborted], olderThan: .days(7), batchSize: 1) == 6)
        #expect(Set(try await app.jobManager.listJobs().map(\.id)) == Set(old[.todo]! + old[.doing]! + recent.values.joined()))
    }

    @Test func badPrunesAndRetentionsAreRefused() async throws {
        let app = App(connector: InMemoryConnector())
        await #expect(throws: InvalidPrune(reason: "status 'todo' is not a final status (succeeded, failed, cancelled, aborted)")) {
            try await app.jobManager.prune(statuses: [.succeeded, .todo], olderThan: .days(1))
        }
        #expect(throws: InvalidPrune(reason: "a retention needs at least one status (succeeded, failed, cancelled, aborted)")) { try app.retain() }
        #expect(throws: InvalidPrune(reason: "the retention of failed jobs is negative (-60.0 seconds)")) {
            try app.retain(failed: .seconds(-60))
        }
        #expect(app.periodicTasks.isEmpty)
    }

    @Test func retainSchedulesARetentionThatAWorkerRuns() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            _ = try app.task("t") { (_: NoArguments) in }
            try app.retain(succeeded: .days(7), failed: .days(30))
            let periodic = try #require(app.periodicTasks.first)
            #expect(periodic.taskName == BuiltinTasks.retention)
            #expect(periodic.extraArguments == ["keep_seconds": .object(["succeeded": .double(604_800), "failed": .double(2_592_000)])])
            #expect(periodic.schedule.description.hasPrefix("H * * * *"))

            let old = try await seed(app)
            try await db.execute("UPDATE procrastinate_events SET at = now() - interval '8 days'")
            // The job a tick defers, run by a worker of every queue.
            let tick = try await app.configureTask(name: BuiltinTasks.retention).defer([
                "timestamp": .int(0), "keep_seconds": .object(["succeeded": .double(604_800), "failed": .double(2_592_000)]),
            ])
            try await Worker(app: app, options: .test(wait: false)).run()
            #expect(try await app.jobManager.job(id: tick)?.status == .succeeded)
            let left = Set(try await app.jobManager.listJobs().map(\.id))
            #expect(!left.contains(old[.succeeded]![0]) && !left.contains(old[.succeeded]![1]))
            #expect(left.isSuperset(of: old[.failed]!))
        }
    }

    @Test func theCommandPrunesOnce() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            _ = try await seed(app)
            try await db.execute("UPDATE procrastinate_events SET at = now() - interval '2 hours'")
            let output = try await CommandLineRunner.run(
                ["jobs", "prune", "--older-than", "1h", "--status", "succeeded,cancelled", "--queue", "b"],
                executable: "procrastinate", environment: ["PROCRASTINATE_DATABASE_URL": try db.testURL]
            )
            #expect(output.status == 0, "\(output.standardError)")
            #expect(output.standardOutput == "Deleted 2 jobs (succeeded, cancelled) older than 1h of queue b\n")
            let bad = try await CommandLineRunner.run(
                ["jobs", "prune", "--older-than", "soon"], executable: "procrastinate", environment: ["PROCRASTINATE_DATABASE_URL": try db.testURL]
            )
            #expect(bad.status == 64)
            #expect(bad.standardError.contains("The value 'soon' is invalid for '--older-than <older-than>'"))
        }
    }
}
