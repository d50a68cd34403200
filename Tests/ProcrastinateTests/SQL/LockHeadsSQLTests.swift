import Foundation
import PostgresNIO
import Testing

@testable import Procrastinate

/// `procrastinate_swift_lock_heads`, the front of each lock's line that the claim reads: every
/// writer keeps it equal to what the jobs say (ours, Python's functions, plain SQL), concurrent
/// writers of many locks neither deadlock nor lose a head, and the migration fills it.
@Suite struct LockHeadsSQLTests {
    struct Head: Equatable, CustomStringConvertible {
        var lock: String
        var jobID: Int64
        var priority: Int
        var queue: String
        var description: String { "\(lock): job \(jobID) (priority \(priority), queue \(queue))" }
    }

    /// The table's rows.
    func heads(_ db: PostgresConnector) async throws -> [Head] {
        try await db.rows(
            "SELECT lock, job_id, priority, queue_name::text FROM procrastinate_swift_lock_heads ORDER BY lock",
            as: (String, Int64, Int, String).self
        ).map { Head(lock: $0.0, jobID: $0.1, priority: $0.2, queue: $0.3) }
    }

    /// What the jobs say the heads are.
    func fronts(_ db: PostgresConnector) async throws -> [Head] {
        try await db.rows(
            """
            SELECT DISTINCT ON (lock) lock, id, priority, queue_name::text FROM procrastinate_jobs
            WHERE status = 'todo' AND lock IS NOT NULL ORDER BY lock, priority DESC, id ASC
            """,
            as: (String, Int64, Int, String).self
        ).map { Head(lock: $0.0, jobID: $0.1, priority: $0.2, queue: $0.3) }
    }

    func expectHeadsMatch(_ db: PostgresConnector, after step: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let (table, expected) = (try await heads(db), try await fronts(db))
        #expect(table == expected, "after \(step)", sourceLocation: sourceLocation)
    }

    @Test func everyKindOfWriteKeepsTheHeads() async throws {
        try await TestDatabase.withDatabase { db in
            // A batch over several locks, out of lock order, with priorities.
            _ = try await db.deferJobs([
                NewJob(queue: "q1", taskName: "t", lock: "B"), NewJob(queue: "q1", taskName: "t", priority: 3, lock: "A"),
                NewJob(queue: "q2", taskName: "t", lock: "A"), NewJob(queue: "q1", taskName: "t", lock: "B"),
                NewJob(queue: "q2", taskName: "t", priority: 9, lock: "C", scheduledAt: Date().addingTimeInterval(3600)),
                NewJob(queue: "q1", taskName: "t"),
            ])
            try await expectHeadsMatch(db, after: "a batch defer")
            let single = try await db.deferJob(queue: "q2", priority: 7, lock: "B")
            try await expectHeadsMatch(db, after: "a single defer that takes the front")

            // Python's claim, retry (onto another lock) and cancel.
            let pythonClaimed = try #require(try await db.value("SELECT id FROM procrastinate_fetch_job_v2(NULL, NULL)", as: Int64.self))
            #expect(pythonClaimed == single)
            try await expectHeadsMatch(db, after: "Python's fetch")
            try await db.execute("SELECT procrastinate_retry_job_v2(\(pythonClaimed), now(), 8, NULL, 'A')")
            try await expectHeadsMatch(db, after: "Python's retry onto another lock")
            let cancelled = try #require(try await heads(db).first { $0.lock == "A" }).jobID
            try await db.execute("SELECT procrastinate_cancel_job_v1(\(cancelled), false, false)")
            try await expectHeadsMatch(db, after: "Python's cancel of a head")

            // Our claim and outcomes.
            let claimed = try await db.fetchJobs(queues: nil, workerID: nil, limit: 10).map(\.id)
            #expect(!claimed.isEmpty)
            try await expectHeadsMatch(db, after: "our claim")
            _ = try await db.finishJobs(claimed.map { JobOutcome(jobID: $0, status: .succeeded, deleteJob: false) })
            try await expectHeadsMatch(db, after: "our outcomes")

            // Plain SQL: a waiting job's lock and priority changed, waiting jobs deleted, the
            // table emptied.
            try await db.execute("UPDATE procrastinate_jobs SET lock = 'D', priority = 4 WHERE id = (SELECT min(id) FROM procrastinate_jobs WHERE status = 'todo' AND lock = 'B')")
            try await expectHeadsMatch(db, after: "an UPDATE of a lock and a priority")
            try await db.execute("DELETE FROM procrastinate_jobs WHERE status = 'todo' AND lock = 'C'")
            try await expectHeadsMatch(db, after: "a DELETE of waiting jobs")
            #expect(try await heads(db).contains { $0.lock == "D" })
            try await db.execute("TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers CASCADE")
            #expect(try await heads(db).isEmpty)
        }
    }

    @Test func concurrentWritersOfManyLocksNeitherDeadlockNorLoseAHead() async throws {
        try await TestDatabase.withDatabase { db in
            let locks = (0..<12).map { "lock-\($0)" }
            // Deferrers write batches over many locks in random orders while claimers take and
            // finish heads: a cycle of waits between them would fail a statement (deadlock).
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        for _ in 0..<25 {
                            let batch = locks.shuffled().prefix(6).map { NewJob(queue: "default", taskName: "t", priority: Int.random(in: 0...2), lock: $0) }
                            _ = try await db.deferJobs(Array(batch))
                        }
                    }
                    group.addTask {
                        for _ in 0..<25 {
                            let claimed = try await db.fetchJobs(queues: nil, workerID: nil, limit: 5)
                            _ = try await db.finishJobs(claimed.map { JobOutcome(jobID: $0.id, status: .succeeded, deleteJob: false) })
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await expectHeadsMatch(db, after: "concurrent defers and claims")

            // Every waiting job is still reachable: claims drain the queue, one job per lock at a time.
            var rounds = 0
            while try await db.value("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'", as: Int64.self) ?? 0 > 0 {
                let claimed = try await db.fetchJobs(queues: nil, workerID: nil, limit: 20)
                #expect(!claimed.isEmpty)
                #expect(Set(claimed.compactMap(\.lock)).count == claimed.count)
                _ = try await db.finishJobs(claimed.map { JobOutcome(jobID: $0.id, status: .succeeded, deleteJob: false) })
                rounds += 1
                if claimed.isEmpty || rounds > 1000 { break }
            }
            #expect(try await heads(db).isEmpty)
        }
    }

    @Test func theMigrationFindsTheHeadsOfJobsAlreadyWaiting() async throws {
        try await TestDatabase.withDatabase(.python) { db in
            for (lock, priority) in [("A", 0), ("A", 5), ("B", 0), ("B", 0)] {
                _ = try await db.deferJob(priority: priority, lock: lock)
            }
            _ = try await db.deferJob()
            try await SchemaManager(connector: db).migrate()
            let table = try await heads(db)
            #expect(table.map(\.lock) == ["A", "B"])
            try await expectHeadsMatch(db, after: "the migration")
            let claimed = try await db.fetchJobs(queues: nil, workerID: nil, limit: 10)
            #expect(claimed.count == 3)
            #expect(claimed.first?.priority == 5)
        }
    }
}
