import Foundation
import PostgresNIO
import Testing

@testable import Procrastinate

/// Our own SQL (`procrastinate_swift_*`): batched fetch and finish, and the migrations.
@Suite struct SwiftFunctionsSQLTests {
    func fetch(_ db: PostgresConnector, limit: Int, queues: [String]? = nil) async throws -> [Int64] {
        try await db.fetchJobs(queues: queues, workerID: nil, limit: limit).map(\.id)
    }

    @Test func aBatchIsWhatSingleFetchesWouldReturn() async throws {
        try await TestDatabase.withDatabase { db in
            let low = try await db.deferJob(priority: 1)
            let lockedFirst = try await db.deferJob(priority: 5, lock: "L")
            _ = try await db.deferJob(priority: 9, lock: "L", scheduledAt: Date().addingTimeInterval(3600))  // heads L, not due
            let other = try await db.deferJob(priority: 5, lock: "M")
            let otherSecond = try await db.deferJob(priority: 5, lock: "M")
            let high = try await db.deferJob(priority: 7)
            let elsewhere = try await db.deferJob(queue: "elsewhere", priority: 8)
            // L's head is not due, so L waits; M gives its head only.
            #expect(try await fetch(db, limit: 10, queues: ["default"]) == [high, other, low])
            #expect(try await fetch(db, limit: 10) == [elsewhere])
            try await db.finishJob(id: other, status: .succeeded, deleteJob: false)
            #expect(try await fetch(db, limit: 10) == [otherSecond])
            _ = lockedFirst
        }
    }

    @Test func aBatchRespectsTheLimitAndRunningLocks() async throws {
        try await TestDatabase.withDatabase { db in
            let ids = try await (0..<5).asyncMap { _ in try await db.deferJob() }
            #expect(try await fetch(db, limit: 2) == Array(ids.prefix(2)))
            let running = try await db.deferJob(lock: "R")
            let waiting = try await db.deferJob(lock: "R")
            #expect(try await fetch(db, limit: 10) == Array(ids.suffix(3)) + [running])
            #expect(try await fetch(db, limit: 10).isEmpty)
            try await db.finishJob(id: running, status: .failed, deleteJob: false)
            #expect(try await fetch(db, limit: 10) == [waiting])
            #expect(try await db.events(waiting) == ["deferred", "started"])
        }
    }

    @Test func concurrentFetchesClaimDifferentJobs() async throws {
        try await TestDatabase.withDatabase { db in
            let ids = try await (0..<4).asyncMap { _ in try await db.deferJob() }
            let head = try await db.deferJob(lock: "L")
            _ = try await db.deferJob(lock: "L")
            // One fetch holds its claim uncommitted while another runs: the second skips the
            // rows the first locked and takes the next ones, rather than coming back empty;
            // it takes nothing of lock L, whose head the first one holds.
            let secondFetch = try await db.withTransaction { connection in
                let rows = try await connection.query("SELECT id FROM procrastinate_swift_fetch_jobs_v1(NULL, NULL, 3)", logger: db.logger)
                #expect(try await rows.decode(Int64.self).all() == [ids[0], ids[1], ids[2]])
                let locked = try await connection.query("SELECT id FROM procrastinate_jobs WHERE id = \(head) FOR UPDATE", logger: db.logger)
                _ = try await locked.collect()
                return try await fetch(db, limit: 3)
            }
            #expect(secondFetch == [ids[3]])
        }
    }

    @Test func finishingAndFetchingHandsALocksNextJobOverDurably() async throws {
        try await TestDatabase.withDatabase { db in
            let first = try await db.deferJob(lock: "L")
            let second = try await db.deferJob(lock: "L")
            let other = try await db.deferJob(priority: -1)
            #expect(try await fetch(db, limit: 1) == [first])
            let (claimed, leftAlone, durability) = try await db.withTransaction { connection in
                // The claim commits without waiting for the WAL flush; the outcomes must not.
                _ = try await connection.query("SET LOCAL synchronous_commit = on", logger: db.logger).collect()
                let rows = try await connection.query(
                    """
                    SELECT id, status::text FROM procrastinate_swift_finish_jobs_and_fetch_v1(
                        ARRAY[\(first), 999999]::bigint[], ARRAY['succeeded', 'succeeded']::procrastinate_job_status[],
                        ARRAY[false, false], NULL, NULL, 1)
                    """,
                    logger: db.logger
                ).decode((Int64, String?).self).all()
                let durability = try await connection.query("SELECT current_setting('synchronous_commit')", logger: db.logger)
                    .decode(String.self).all()
                return (rows.filter { $0.1 != nil }.map(\.0), rows.filter { $0.1 == nil }.map(\.0), durability)
            }
            // L's next job outranks `other`, and is claimable once `first` succeeded.
            #expect(claimed == [second] && leftAlone == [999_999] && durability == ["on"])
            #expect(try await db.jobState(first)?.status == "succeeded")
            #expect(try await db.jobState(other)?.status == "todo")
            let both = try await db.finishJobs(
                [JobOutcome(jobID: second, status: .failed, deleteJob: false), JobOutcome(jobID: 999_999, status: .failed, deleteJob: false)],
                thenFetch: nil, workerID: nil, limit: 5
            )
            #expect(both.leftAlone == [999_999] && both.fetched.map(\.id) == [other])
        }
    }

    @Test func finishingInABatchWritesWhatSingleFinishesWrite() async throws {
        try await TestDatabase.withDatabase { db in
            let ids = try await (0..<4).asyncMap { _ in try await db.deferJob() }
            _ = try await fetch(db, limit: 3)
            let leftAlone = try await db.finishJobs([
                JobOutcome(jobID: ids[0], status: .succeeded, deleteJob: false),
                JobOutcome(jobID: ids[1], status: .failed, deleteJob: false),
                JobOutcome(jobID: ids[2], status: .aborted, deleteJob: true),
                JobOutcome(jobID: 999_999, status: .succeeded, deleteJob: false),
            ])
            #expect(leftAlone == [999_999])
            let succeeded = try await db.jobState(ids[0])
            #expect(succeeded?.status == "succeeded" && succeeded?.attempts == 1)
            #expect(try await db.events(ids[1]) == ["deferred", "started", "failed"])
            #expect(try await db.jobState(ids[2]) == nil)
            #expect(try await db.jobState(ids[3])?.status == "todo")
        }
    }

    @Test func migrationsOnTopOfThePython310SchemaGiveOurSchema() async throws {
        let migrated = try await TestDatabase.withDatabase(.python) { db in
            try await db.withTransaction { connection in
                for migration in SchemaManager.migrations {
                    for statement in SQLScript.statements(in: migration.sql) {
                        try await connection.query(.init(unsafeSQL: statement), logger: TestDatabase.logger)
                    }
                }
            }
            let applied = try await db.rows("SELECT name FROM procrastinate_swift_migrations ORDER BY name", as: String.self)
            #expect(applied == SchemaManager.migrations.map(\.name))
            return try await Catalog.lines(of: db)
        }
        let ours = try await TestDatabase.withDatabase { db in try await Catalog.lines(of: db) }
        let difference = Catalog.difference(expected: ours, expectedName: "schema.sql", actual: migrated, actualName: "3.10 + migrations")
        #expect(difference.isEmpty, "\(difference)")
    }

    @Test func aPythonAppliedSchemaNeedsOurMigrationsBeforeSwiftWorkersRun() async throws {
        try await TestDatabase.withDatabase(.python) { db in
            let first = try await db.deferJob()
            await #expect(throws: SchemaError.migrationsMissing(endpoint: db.endpoint)) {
                try await Worker(app: App(connector: db, logger: TestDatabase.logger), options: .test(wait: false)).run()
            }
            let manager = SchemaManager(connector: db)
            #expect(try await manager.migrate() == SchemaManager.migrations.map(\.name))
            #expect(try await manager.migrate().isEmpty)
            #expect(try await fetch(db, limit: 5) == [first])
            #expect(try await db.finishJobs([JobOutcome(jobID: first, status: .succeeded, deleteJob: false)]).isEmpty)
        }
    }

    @Test func migratingADatabaseWithoutTheSchemaIsRefused() async throws {
        _ = try await TestDatabase.withDatabase(nil) { db in
            await #expect(throws: SchemaError.missing(endpoint: db.endpoint)) { try await SchemaManager(connector: db).migrate() }
        }
    }
}

extension Sequence {
    /// `map` with an async transform, in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
