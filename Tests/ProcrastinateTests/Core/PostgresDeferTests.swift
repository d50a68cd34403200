import Foundation
import PostgresNIO
import Procrastinate
import ProcrastinateTesting
import Synchronization
import Testing

/// What only PostgreSQL does: transactions, old-job cleanup by event age, connection errors.
@Suite struct PostgresDeferTests {
    struct Rollback: Error {}

    @Test func deferringInsideTheCallersTransaction() async throws {
        try await TestDatabase.withDatabase { connector in
            let app = App(connector: connector, logger: TestDatabase.logger)
            let sum = try app.task("sum") { (_: Sum) in }
            let kept = try await connector.withTransaction { connection in
                let id = try await sum.defer(Sum(a: 1, b: 1), on: connection)
                // Not visible outside the transaction before it commits.
                #expect(try await app.jobManager.job(id: id) == nil)
                return id
            }
            #expect(try await app.jobManager.job(id: kept)?.status == .todo)

            await #expect(throws: Rollback.self) {
                try await connector.withTransaction { connection in
                    try await sum.configure(lock: "x").defer(Sum(a: 2, b: 2), on: connection)
                    throw Rollback()
                }
            }
            #expect(try await app.jobManager.listJobs().map(\.id) == [kept])
        }
    }

    @Test func aQueueingLockConflictInATransactionIsAlreadyEnqueued() async throws {
        try await TestDatabase.withDatabase { connector in
            let app = App(connector: connector, logger: TestDatabase.logger)
            let sum = try app.task("sum", queueingLock: "k") { (_: Sum) in }
            try await sum.defer(Sum(a: 1, b: 1))
            await #expect(throws: AlreadyEnqueued.self) {
                try await connector.withTransaction { connection in
                    try await sum.defer(Sum(a: 2, b: 2), on: connection)
                }
            }
        }
    }

    @Test func deferringWorksBeforeAndAfterOurMigrations() async throws {
        try await TestDatabase.withDatabase(.python) { connector in
            let app = App(connector: connector, logger: TestDatabase.logger)
            let sum = try app.task("sum") { (_: Sum) in }
            // Python's schema alone: through the 3.10 function, in a transaction.
            let before = try await sum.batchDefer([Sum(a: 1, b: 1), Sum(a: 2, b: 2)])
            try await SchemaManager(connector: connector).migrate()
            // Migrated: through our procedure, in one round trip.
            let after = try await sum.configure(lock: "L").batchDefer([Sum(a: 3, b: 3), Sum(a: 4, b: 4)])
            let single = try await sum.defer(Sum(a: 5, b: 5))
            #expect(before.count == 2 && after.count == 2 && after[0] < after[1] && after[1] < single)
            let jobs = try await app.jobManager.listJobs()
            #expect(jobs.map(\.id) == before + after + [single])
            #expect(jobs.map(\.arguments) == (1...5).map { #"{"a": \#($0), "b": \#($0)}"# })
            #expect(jobs.map(\.lock) == [nil, nil, "L", "L", nil])
            await #expect(throws: AlreadyEnqueued(queueingLock: "once")) {
                _ = try await sum.configure(queueingLock: "once").batchDefer([Sum(a: 6, b: 6), Sum(a: 7, b: 7)])
            }
            #expect(try await app.jobManager.listJobs().count == 5)
        }
    }

    @Test func deletingOldJobsGoesByTheirLatestEvent() async throws {
        try await TestDatabase.withDatabase { connector in
            let app = App(connector: connector, logger: TestDatabase.logger)
            let sum = try app.task("sum") { (_: Sum) in }
            let old = try await sum.defer(Sum(a: 1, b: 1))
            let recent = try await sum.defer(Sum(a: 2, b: 2))
            let waiting = try await sum.defer(Sum(a: 3, b: 3))
            for id in [old, recent] {
                _ = try await connector.fetchJob(queues: nil, workerID: nil)
                try await connector.finishJob(id: id, status: id == old ? .succeeded : .failed, deleteJob: false)
            }
            try await connector.execute("UPDATE procrastinate_events SET at = now() - interval '3 hours' WHERE job_id IN (\(old), \(waiting))")
            #expect(try await app.jobManager.deleteOldJobs(olderThan: 2) == 1)
            #expect(try await app.jobManager.listJobs().map(\.id) == [recent, waiting])
            // Failed jobs go only when asked, and only when old enough.
            #expect(try await app.jobManager.deleteOldJobs(olderThan: 2, includeFailed: true) == 0)
            try await connector.execute("UPDATE procrastinate_events SET at = now() - interval '3 hours'")
            #expect(try await app.jobManager.deleteOldJobs(olderThan: 2, includeFailed: true) == 1)
            #expect(try await app.jobManager.listJobs().map(\.id) == [waiting])
        }
    }

    @Test func aMissingSchemaSaysHowToApplyIt() async throws {
        try await TestDatabase.withDatabase(nil) { connector in
            let app = App(connector: connector, logger: TestDatabase.logger)
            let sum = try app.task("sum") { (_: Sum) in }
            let error = await #expect(throws: SchemaError.self) { try await sum.defer(Sum(a: 1, b: 1)) }
            #expect(error?.description == "the database \(connector.endpoint) has no Procrastinate schema: run `procrastinate schema --apply`")
            await #expect(throws: SchemaError.self) { try await app.jobManager.listJobs() }
        }
    }

    @Test func anUnreachableDatabaseIsNamed() async throws {
        let settings = ConnectionSettings(host: "127.0.0.1", port: 1, username: "app", database: "jobs", tlsMode: .disable)
        let app = App(connector: PostgresConnector(settings: settings, logger: TestDatabase.logger))
        let error = await #expect(throws: DatabaseError.self) { try await app.run { 1 } }
        #expect(error?.description == "cannot connect to PostgreSQL at 127.0.0.1:1/jobs: connection refused: is PostgreSQL running, and listening on that host and port?")
    }
}

/// What only the in-memory connector needs: its injectable clock.
@Suite struct InMemoryConnectorTests {
    final class Clock: Sendable {
        let now = Mutex(Date(timeIntervalSince1970: 1_700_000_000))
        func advance(_ seconds: Double) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
        var date: Date { now.withLock { $0 } }
    }

    @Test func deletingOldJobsGoesByTheirLatestEvent() async throws {
        let clock = Clock()
        let connector = InMemoryConnector(clock: { clock.date })
        let app = App(connector: connector)
        let sum = try app.task("sum") { (_: Sum) in }
        let old = try await sum.defer(Sum(a: 1, b: 1))
        _ = await connector.fetchJob(queues: nil, workerID: nil)
        try await connector.finishJob(id: old, status: .succeeded, deleteJob: false)
        clock.advance(3 * 3600)
        let recent = try await sum.defer(Sum(a: 2, b: 2))
        _ = await connector.fetchJob(queues: nil, workerID: nil)
        try await connector.finishJob(id: recent, status: .succeeded, deleteJob: false)
        #expect(try await app.jobManager.deleteOldJobs(olderThan: 2) == 1)
        #expect(try await app.jobManager.listJobs().map(\.id) == [recent])
    }

    @Test func scheduledJobsWaitForTheClock() async throws {
        let clock = Clock()
        let connector = InMemoryConnector(clock: { clock.date })
        let app = App(connector: connector)
        let sum = try app.task("sum") { (_: Sum) in }
        let id = try await sum.configure(scheduleAt: clock.date.addingTimeInterval(60)).defer(Sum(a: 1, b: 1))
        #expect(await connector.fetchJob(queues: nil, workerID: nil) == nil)
        clock.advance(60)
        #expect(await connector.fetchJob(queues: nil, workerID: nil)?.id == id)
        #expect(await connector.events.map(\.type) == ["scheduled", "deferred", "started"])
    }
}
