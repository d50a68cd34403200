import Foundation
import PostgresNIO
import Testing

@testable import Procrastinate

/// `procrastinate_defer_periodic_job_v2` and the worker functions.
@Suite struct PeriodicAndWorkerSQLTests {
    func deferTick(_ db: PostgresConnector, task: String = "tick", periodicID: String = "", timestamp: Int64) async throws -> Int64? {
        try await db.value(
            """
            SELECT procrastinate_defer_periodic_job_v2('periodic', NULL, NULL, \(task), 2, \(periodicID), \(timestamp),
                                                       jsonb_build_object('timestamp', \(timestamp)))
            """,
            as: Int64?.self
        ) ?? nil
    }

    @Test(arguments: SchemaSource.allCases)
    func eachTickIsDeferredOnce(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let first = try #require(try await deferTick(db, timestamp: 1000))
            #expect(try await deferTick(db, timestamp: 1000) == nil)
            let row = try #require(try await db.rows(
                "SELECT queue_name, priority, args->>'timestamp' FROM procrastinate_jobs WHERE id = \(first)", as: (String, Int, String).self
            ).first)
            #expect(row.0 == "periodic" && row.1 == 2 && row.2 == "1000")
            // Another periodic id of the same task is another schedule.
            #expect(try await deferTick(db, periodicID: "other", timestamp: 1000) != nil)
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func aNewTickForgetsOlderTicksOfTheSameSchedule(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            _ = try await deferTick(db, timestamp: 1000)
            _ = try await deferTick(db, periodicID: "other", timestamp: 1000)
            _ = try await deferTick(db, timestamp: 1060)
            let rows = try await db.rows(
                "SELECT periodic_id, defer_timestamp FROM procrastinate_periodic_defers ORDER BY periodic_id, defer_timestamp",
                as: (String, Int64).self
            )
            #expect(rows.map { "\($0.0)@\($0.1)" } == ["@1060", "other@1000"])
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func deletingATickJobUnlinksItsDedupRow(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let id = try #require(try await deferTick(db, timestamp: 1000))
            try await db.execute("SELECT procrastinate_cancel_job_v1(\(id), false, true)")
            let remaining = try await db.rows("SELECT job_id FROM procrastinate_periodic_defers", as: Int64?.self)
            #expect(remaining.count == 1 && remaining[0] == nil)
            #expect(try await deferTick(db, timestamp: 1000) == nil)
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func workersRegisterBeatAndUnregister(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let worker = try #require(try await db.value("SELECT worker_id FROM procrastinate_register_worker_v1()", as: Int64.self))
            try await db.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour' WHERE id = \(worker)")
            try await db.execute("SELECT procrastinate_update_heartbeat_v1(\(worker))")
            let age = try await db.value(
                "SELECT extract(epoch FROM now() - last_heartbeat)::float8 FROM procrastinate_workers WHERE id = \(worker)", as: Double.self
            )
            #expect(try #require(age) < 60)

            let job = try await db.deferJob()
            _ = try await db.fetchJobID(workerID: worker)
            try await db.execute("SELECT procrastinate_unregister_worker_v1(\(worker))")
            #expect(try await db.value("SELECT count(*) FROM procrastinate_workers", as: Int.self) == 0)
            #expect(try await db.value("SELECT worker_id FROM procrastinate_jobs WHERE id = \(job)", as: Int64?.self) == .some(nil))
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func pruningRemovesOnlyStalledWorkers(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let stalled = try #require(try await db.value("SELECT worker_id FROM procrastinate_register_worker_v1()", as: Int64.self))
            let alive = try #require(try await db.value("SELECT worker_id FROM procrastinate_register_worker_v1()", as: Int64.self))
            try await db.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '40 seconds' WHERE id = \(stalled)")
            let pruned = try await db.rows("SELECT worker_id FROM procrastinate_prune_stalled_workers_v1(30)", as: Int64.self)
            #expect(pruned == [stalled])
            #expect(try await db.rows("SELECT id FROM procrastinate_workers", as: Int64.self) == [alive])
        }
    }
}
