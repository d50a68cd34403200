import Foundation
import PostgresNIO
import Testing

@testable import Procrastinate

/// `procrastinate_cancel_job_v1` and the abort triggers.
@Suite struct CancelSQLTests {
    func cancel(_ db: PostgresConnector, _ id: Int64, abort: Bool = false, delete: Bool = false) async throws -> Int64? {
        try await db.value("SELECT procrastinate_cancel_job_v1(\(id), \(abort), \(delete))", as: Int64?.self) ?? nil
    }

    @Test(arguments: SchemaSource.allCases)
    func cancellingAWaitingJob(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let id = try await db.deferJob()
            #expect(try await cancel(db, id) == id)
            #expect(try await db.jobState(id)?.status == "cancelled")
            #expect(try await db.events(id) == ["deferred", "cancelled"])
            #expect(try await db.fetchJobID() == nil)
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func cancellingAWaitingJobWithAbortAlsoFlagsIt(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let id = try await db.deferJob()
            #expect(try await cancel(db, id, abort: true) == id)
            let state = try #require(try await db.jobState(id))
            #expect(state.status == "cancelled" && state.abortRequested)
            // Same-event triggers fire in name order, so abort_requested comes before cancelled.
            #expect(try await db.events(id) == ["deferred", "abort_requested", "cancelled"])
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func cancellingARunningJobWithoutAbortChangesNothing(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let id = try await db.deferJob()
            _ = try await db.fetchJobID()
            #expect(try await cancel(db, id) == nil)
            let state = try #require(try await db.jobState(id))
            #expect(state.status == "doing" && !state.abortRequested)
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func abortingARunningJobFlagsItAndNotifiesBothChannels(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let id = try await db.deferJob(queue: "q")
            _ = try await db.fetchJobID()
            let received = try await db.notifications(on: ["procrastinate_queue_v1#q", "procrastinate_any_queue_v1"], count: 2) {
                let aborted = try await cancel(db, id, abort: true)
                #expect(aborted == id)
            }
            #expect(Set(received) == [
                #"procrastinate_queue_v1#q: {"type" : "abort_job_requested", "job_id" : \#(id)}"#,
                #"procrastinate_any_queue_v1: {"type" : "abort_job_requested", "job_id" : \#(id)}"#,
            ])
            let state = try #require(try await db.jobState(id))
            #expect(state.status == "doing" && state.abortRequested)
            #expect(try await db.events(id) == ["deferred", "started", "abort_requested"])
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func cancellingWithDeleteRemovesAWaitingJob(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let id = try await db.deferJob()
            #expect(try await cancel(db, id, delete: true) == id)
            #expect(try await db.jobState(id) == nil)
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func cancellingWithDeleteKeepsARunningJob(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let id = try await db.deferJob()
            _ = try await db.fetchJobID()
            #expect(try await cancel(db, id, delete: true) == nil)
            #expect(try await db.jobState(id)?.status == "doing")
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func cancellingAnUnknownJobMatchesNothing(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let matched = try await cancel(db, 424_242, abort: true)
            #expect(matched == nil)
            let events = try await db.value("SELECT count(*) FROM procrastinate_events", as: Int.self)
            #expect(events == 0)
        }
    }

    @Test(arguments: SchemaSource.allCases)
    func theSchemaForbidsAWaitingJobWithAnAbortRequest(schema: SchemaSource) async throws {
        try await TestDatabase.withDatabase(schema) { db in
            let id = try await db.deferJob()
            let error = await #expect(throws: DatabaseError.self) {
                try await db.execute("UPDATE procrastinate_jobs SET abort_requested = true WHERE id = \(id)")
            }
            #expect(error?.constraintName == "check_not_todo_abort_requested")
        }
    }
}
