import Foundation
import PostgresNIO
import Testing

@testable import Procrastinate

/// `procrastinate_fetch_job_v2`: which job a worker gets.
@Suite struct FetchSQLTests {
    @Test(arguments: SchemaSource.allCases)
    func fetchesOnlyFromTheGivenQueuesOrAnyWhenNil(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let a = try await db.deferJob(queue: "a")
            let b = try await db.deferJob(queue: "b")
            #expect(try await db.fetchJobID(queues: ["c"]) == nil)
            #expect(try await db.fetchJobID(queues: ["b", "c"]) == b)
            #expect(try await db.fetchJobID(queues: nil) == a)
            #expect(try await db.fetchJobID() == nil)
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func fetchesAScheduledJobOnlyOnceItIsDue(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            try await db.deferJob(task: "future", scheduledAt: Date().addingTimeInterval(3600))
            let past = try await db.deferJob(task: "past", scheduledAt: Date().addingTimeInterval(-10))
            #expect(try await db.fetchJobID() == past)
            #expect(try await db.fetchJobID() == nil)
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func fetchesByPriorityThenId(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let low = try await db.deferJob(priority: 5)
            let high = try await db.deferJob(priority: 7)
            let middleFirst = try await db.deferJob(priority: 6)
            let middleSecond = try await db.deferJob(priority: 6)
            var order: [Int64] = []
            while let id = try await db.fetchJobID() {
                order.append(id)
            }
            #expect(order == [high, middleFirst, middleSecond, low])
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func setsDoingAndTheWorkerAndRecordsStarted(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let worker = try #require(try await db.value("SELECT worker_id FROM procrastinate_register_worker_v1()", as: Int64.self))
            let id = try await db.deferJob()
            #expect(try await db.fetchJobID(workerID: worker) == id)
            #expect(try await db.jobState(id)?.status == "doing")
            #expect(try await db.value("SELECT worker_id FROM procrastinate_jobs WHERE id = \(id)", as: Int64.self) == worker)
            #expect(try await db.events(id) == ["deferred", "started"])
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func returnsARowOfNullsWhenNothingIsFetchable(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let nulls = try await db.value(
                "SELECT count(*) FROM procrastinate_fetch_job_v2(NULL, NULL) AS job WHERE job.id IS NULL AND job.status IS NULL",
                as: Int.self
            )
            #expect(nulls == 1)
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func aRunningJobHoldsItsLockEvenWithAnAbortRequested(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let running = try await db.deferJob(lock: "L")
            #expect(try await db.fetchJobID() == running)
            try await db.execute("SELECT procrastinate_cancel_job_v1(\(running), true, false)")
            let waiting = try await db.deferJob(priority: 100, lock: "L")
            let free = try await db.deferJob(lock: "other")
            #expect(try await db.fetchJobID() == free)
            #expect(try await db.fetchJobID() == nil)
            try await db.execute("SELECT procrastinate_finish_job_v1(\(running), 'aborted', false)")
            #expect(try await db.fetchJobID() == waiting)
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func anEarlierWaitingJobOfTheSameLockBlocksALaterOne(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            // The earlier job sits in a queue this worker does not fetch: it still owns the lock.
            try await db.deferJob(queue: "elsewhere", lock: "L")
            try await db.deferJob(queue: "mine", lock: "L")
            #expect(try await db.fetchJobID(queues: ["mine"]) == nil)
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func aHigherPriorityJobOfALockGoesFirstWhenNoneRuns(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let earlierLow = try await db.deferJob(priority: 5, lock: "a")
            let laterHigh = try await db.deferJob(priority: 10, lock: "a")
            #expect(try await db.fetchJobID() == laterHigh)
            #expect(try await db.fetchJobID() == nil)
            try await db.execute("SELECT procrastinate_finish_job_v1(\(laterHigh), 'succeeded', false)")
            #expect(try await db.fetchJobID() == earlierLow)
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func nullLocksNeverBlock(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let first = try await db.deferJob()
            let second = try await db.deferJob()
            #expect(try await db.fetchJobID() == first)
            #expect(try await db.fetchJobID() == second)
        }
    }
}
