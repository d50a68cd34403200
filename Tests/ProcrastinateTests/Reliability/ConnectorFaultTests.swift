import Foundation
import PostgresNIO
import Testing

@testable import Procrastinate

/// The PostgreSQL connector when the database fails it: commits that fail, a server that stops
/// answering, connections killed, a pool that does not run.
@Suite struct ConnectorFaultTests {
    /// Makes every commit of a job of task `task` fail, as a commit can (a deferred constraint,
    /// a serialization failure, the disk): the statement itself completes, its commit does not.
    func failCommits(of task: String, on db: PostgresConnector) async throws {
        try await db.execute(
            PostgresQuery(unsafeSQL: """
                CREATE FUNCTION fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'commit refused for job %', NEW.id; END;
                $$;
                """)
        )
        try await db.execute(
            PostgresQuery(unsafeSQL: """
                CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT OR UPDATE ON procrastinate_jobs
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.task_name = '\(task)' AND NEW.status <> 'doing')
                EXECUTE FUNCTION fail_at_commit()
                """)
        )
    }

    @Test func aDeferReturnsOnlyOnceItsCommitSucceeded() async throws {
        try await TestDatabase.withDatabase { db in
            try await failCommits(of: "doomed", on: db)
            let doomed = NewJob(queue: "default", taskName: "doomed", arguments: "{}")
            await #expect(throws: DatabaseError.self) { try await db.deferJobs([doomed]) }
            await #expect(throws: DatabaseError.self) { try await db.deferJobs([doomed, doomed]) }
            #expect(try await db.listJobs(JobFilter()).isEmpty)
            // The error names the cause.
            do {
                _ = try await db.deferJobs([doomed])
            } catch {
                #expect("\(error)".contains("commit refused for job"), "\(error)")
            }
            #expect(try await db.deferJobs([NewJob(queue: "default", taskName: "fine", arguments: "{}")]).count == 1)
        }
    }

    @Test func anOutcomeIsAcknowledgedOnlyOnceItsCommitSucceeded() async throws {
        try await TestDatabase.withDatabase { db in
            let id = try await db.deferJob(task: "finished_badly")
            _ = try await db.fetchJobs(queues: nil, workerID: nil, limit: 1)
            try await failCommits(of: "finished_badly", on: db)
            await #expect(throws: DatabaseError.self) {
                try await db.finishJobs([JobOutcome(jobID: id, status: .succeeded, deleteJob: false, attempts: 0)])
            }
            #expect(try await db.jobState(id)?.status == "doing")
        }
    }

    @Test func aServerThatStopsAnsweringIsGivenUpAndItsConnectionReplaced() async throws {
        try await TestDatabase.withDatabase { db in
            var settings = try #require(db.settings)
            settings.database = try #require(db.settings?.database)
            let impatient = PostgresConnector(settings: settings, queryTimeout: .seconds(1), logger: TestDatabase.logger)
            try await impatient.run { impatient in
                // A connection in the pool first: the defer below gets one at once, then no answer.
                try await eventually("a first answer") { (try? await impatient.listJobs(JobFilter(id: 0))) != nil }
                let blocker = try await PostgresConnection.connect(
                    configuration: settings.connectionConfiguration(), id: 9, logger: TestDatabase.logger
                )
                try await blocker.query("BEGIN", logger: TestDatabase.logger)
                try await blocker.query("LOCK TABLE procrastinate_jobs IN ACCESS EXCLUSIVE MODE", logger: TestDatabase.logger)
                let job = NewJob(queue: "default", taskName: "t", arguments: "{}")
                let error = await #expect(throws: DatabaseError.self) {
                    try await within(.seconds(20), waitingFor: "the defer to give up") { try await impatient.deferJobs([job]) }
                }
                #expect(error?.message.contains("no answer within 1.0 seconds") ?? false, "\(String(describing: error))")
                try await blocker.query("ROLLBACK", logger: TestDatabase.logger)
                try await blocker.close()
                // The pool opens another connection: defers go through again (within a second
                // each, which a loaded machine may need a few tries for).
                try await eventually("a defer to go through") { (try? await impatient.deferJobs([job]))?.count == 1 }
            }
        }
    }

    @Test func usingAnAppWhosePoolDoesNotRunFailsAtOnce() async throws {
        let settings = try TestDatabase.serverSettings()
        let app = App(connector: PostgresConnector(settings: settings, logger: TestDatabase.logger), logger: TestDatabase.logger)
        let task = try app.task("t") { (_: NoArguments) in }
        let error = await #expect(throws: AppNotOpen.self) {
            try await within(.seconds(10), waitingFor: "the defer to fail") { try await task.defer() }
        }
        #expect(error?.description.contains("app.run") ?? false)
        await #expect(throws: AppNotOpen.self) { try await app.jobManager.listJobs() }
    }

    @Test func aKilledConnectionsErrorSaysWhatHappened() async throws {
        try await TestDatabase.withDatabase { db in
            let settings = try #require(db.settings)
            let connector = PostgresConnector(settings: settings, queryTimeout: .seconds(10), logger: TestDatabase.logger)
            try await connector.run { connector in
                // The pool's one connection is terminated under it; the next query goes to it.
                let pid = try await connector.perform { connection in
                    try await connection.query("SELECT pg_backend_pid()", logger: TestDatabase.logger).decode(Int32.self).all()[0]
                }
                try await db.execute("SELECT pg_terminate_backend(\(pid))")
                do {
                    _ = try await within(.seconds(20), waitingFor: "the query to fail") {
                        try await connector.perform { connection in try await connection.query("SELECT 1", logger: TestDatabase.logger).collect().count }
                    }
                } catch let error as DatabaseError {
                    let described = "\(error)"
                    #expect(!described.contains("Generic description"), "\(described)")
                    #expect(
                        ["terminating connection", "closed the connection", "no answer within"].contains { described.contains($0) },
                        "\(described)"
                    )
                }
            }
        }
    }

    @Test func theBuiltinTaskRemovesOldJobsAsPythonsDoes() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            _ = try app.task("work") { (_: NoArguments) in }
            let oldSucceeded = try await db.deferJob(task: "work")
            let oldFailed = try await db.deferJob(task: "work")
            let oldCancelled = try await db.deferJob(task: "work")
            let recent = try await db.deferJob(task: "work")
            for (id, status) in [(oldSucceeded, JobStatus.succeeded), (oldFailed, .failed), (recent, .succeeded)] {
                _ = try await db.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = \(id)")
                try await db.finishJob(id: id, status: status, deleteJob: false)
            }
            _ = try await db.cancelJob(id: oldCancelled, abort: false, deleteJob: false)
            try await db.execute("UPDATE procrastinate_events SET at = at - interval '2 hours' WHERE job_id <> \(recent)")
            // Deferred by name, as Python's periodic task defers it.
            try await app.configureTask(name: "procrastinate.builtin_tasks.remove_old_jobs", queue: "builtin")
                .defer(["max_hours": 1, "remove_failed": true])
            try await RunningWorker(Worker(app: app, options: .test(wait: false))).finished()
            let left = try await app.jobManager.listJobs().map(\.id)
            #expect(!left.contains(oldSucceeded) && !left.contains(oldFailed))
            #expect(left.contains(oldCancelled) && left.contains(recent))
        }
    }
}
