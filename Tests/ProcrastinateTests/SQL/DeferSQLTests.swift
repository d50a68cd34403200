import Foundation
import PostgresNIO
import Testing

@testable import Procrastinate

/// `procrastinate_defer_jobs_v1`, the insert triggers and their NOTIFY.
@Suite struct DeferSQLTests {
    @Test(arguments: SchemaSource.allCases)
    func defersOneJobAsTodoWithADeferredEvent(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let id = try await db.deferJob(queue: "emails", task: "send", priority: 3, lock: "l", queueingLock: "q", args: #"{"to": "a@b.c"}"#)
            let row = try #require(try await db.rows(
                "SELECT queue_name, task_name, priority, lock, queueing_lock, args::text, status::text, attempts, scheduled_at FROM procrastinate_jobs WHERE id = \(id)",
                as: (String, String, Int, String?, String?, String, String, Int, Date?).self
            ).first)
            #expect(row.0 == "emails" && row.1 == "send" && row.2 == 3 && row.3 == "l" && row.4 == "q")
            #expect(row.5 == #"{"to": "a@b.c"}"#)
            #expect(row.6 == "todo" && row.7 == 0 && row.8 == nil)
            #expect(try await db.events(id) == ["deferred"])
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func defersABatchAndReturnsIdsInTheGivenOrder(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let ids = try await db.rows(
                """
                SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[
                    ROW('default', 'a', 0, NULL, NULL, '{"n": 1}', NULL)::procrastinate_job_to_defer_v1,
                    ROW('default', 'b', 0, NULL, NULL, '{"n": 2}', NULL)::procrastinate_job_to_defer_v1,
                    ROW('default', 'c', 0, NULL, NULL, '{"n": 3}', NULL)::procrastinate_job_to_defer_v1
                ]))
                """,
                as: Int64.self
            )
            #expect(ids.count == 3)
            var tasks: [String] = []
            for id in ids {
                tasks.append(try #require(try await db.value("SELECT task_name FROM procrastinate_jobs WHERE id = \(id)", as: String.self)))
            }
            #expect(tasks == ["a", "b", "c"])
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func aScheduledJobRecordsScheduledAtItsTimeBeforeDeferred(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let when = Date(timeIntervalSince1970: 4_000_000_000)
            let id = try await db.deferJob(scheduledAt: when)
            #expect(try await db.events(id) == ["scheduled", "deferred"])
            let at = try await db.value("SELECT at FROM procrastinate_events WHERE job_id = \(id) AND type = 'scheduled'", as: Date.self)
            #expect(at == when)
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func aSecondWaitingJobWithTheSameQueueingLockIsRejected(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            try await db.deferJob(queueingLock: "only-one")
            let error = await #expect(throws: DatabaseError.self) {
                try await db.deferJob(queueingLock: "only-one")
            }
            #expect(error?.sqlState == "23505")
            #expect(error?.constraintName == "procrastinate_jobs_queueing_lock_idx_v1")
            #expect(error?.detail == "Key (queueing_lock)=(only-one) already exists.")
            // Another key is fine.
            try await db.deferJob(queueingLock: "another")
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func aBatchWithAQueueingLockConflictInsertsNothing(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            try await db.deferJob(queueingLock: "taken")
            await #expect(throws: DatabaseError.self) {
                try await db.execute(
                    """
                    SELECT procrastinate_defer_jobs_v1(ARRAY[
                        ROW('default', 'a', 0, NULL, 'free', '{}', NULL)::procrastinate_job_to_defer_v1,
                        ROW('default', 'b', 0, NULL, 'taken', '{}', NULL)::procrastinate_job_to_defer_v1
                    ])
                    """
                )
            }
            #expect(try await db.value("SELECT count(*) FROM procrastinate_jobs", as: Int.self) == 1)
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func aQueueingLockOnlyCountsWaitingJobs(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let first = try await db.deferJob(queueingLock: "key")
            #expect(try await db.fetchJobID() == first)
            let second = try await db.deferJob(queueingLock: "key")
            #expect(second > first)
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func insertingAJobNotifiesItsQueueAndTheAnyQueueChannel(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let ids = IDBox()
            let received = try await db.notifications(
                on: ["procrastinate_queue_v1#emails", "procrastinate_any_queue_v1"], count: 2
            ) {
                ids.set(try await db.deferJob(queue: "emails"))
            }
            let id = ids.value
            #expect(Set(received) == [
                #"procrastinate_queue_v1#emails: {"type" : "job_inserted", "job_id" : \#(id)}"#,
                #"procrastinate_any_queue_v1: {"type" : "job_inserted", "job_id" : \#(id)}"#,
            ])
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func aQueueNameTooLongForAChannelIsRefusedByTheServer(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let error = await #expect(throws: DatabaseError.self) {
                try await db.deferJob(queue: String(repeating: "q", count: 41))
            }
            #expect(error?.message.contains("channel name too long") == true, "\(String(describing: error))")
        }
    }
}

/// A value set inside a `@Sendable` closure and read after it.
final class IDBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Int64 = 0
    func set(_ value: Int64) { lock.withLock { stored = value } }
    var value: Int64 { lock.withLock { stored } }
}
