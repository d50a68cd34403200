import Foundation
import PostgresNIO
import Procrastinate

/// Everything the job page shows: the job, its events, its worker, and its lock's line.
struct JobDetails: Sendable {
    /// One event of the job's history.
    struct Event: Sendable, Hashable {
        var type: String
        var at: Date?
    }

    /// The job's worker, as the workers table holds it.
    struct JobWorker: Sendable, Hashable {
        var id: Int64
        var lastHeartbeat: Date
    }

    var job: Job
    var events: [Event]
    var worker: JobWorker?
    /// The lock's running job (if any) and its waiting ones, in the order they run (at most
    /// ``lockLineLimit``).
    var lockLine: [Job]

    static let lockLineLimit = 20
    static let eventLimit = 200

    /// Job `id`'s details; nil when there is no such job.
    static func read(id: Int64, in session: ReadSession) async throws -> JobDetails? {
        guard let job = try await session.jobs("SELECT \(unescaped: PostgresConnector.jobColumns) FROM procrastinate_jobs WHERE id = \(id)").first
        else { return nil }
        let events = try await session.rows(
            "SELECT type::text, at FROM procrastinate_events WHERE job_id = \(id) ORDER BY id LIMIT \(eventLimit)", as: (String?, Date?).self
        ).map { Event(type: $0.0 ?? "unknown", at: $0.1) }
        var worker: JobWorker?
        if let workerID = job.workerID {
            worker = try await session.rows(
                "SELECT id, last_heartbeat FROM procrastinate_workers WHERE id = \(workerID)", as: (Int64, Date).self
            ).first.map { JobWorker(id: $0.0, lastHeartbeat: $0.1) }
        }
        var lockLine: [Job] = []
        if let lock = job.lock {
            lockLine = try await session.jobs(
                """
                (SELECT \(unescaped: PostgresConnector.jobColumns) FROM procrastinate_jobs WHERE lock = \(lock) AND status = 'doing')
                UNION ALL
                (SELECT \(unescaped: PostgresConnector.jobColumns) FROM procrastinate_jobs WHERE lock = \(lock) AND status = 'todo'
                 ORDER BY priority DESC, id LIMIT \(lockLineLimit))
                """
            )
        }
        return JobDetails(job: job, events: events, worker: worker, lockLine: lockLine)
    }

    /// What keeps the job waiting: the lock's running job, or the job before it in its lock's
    /// line; nil when nothing in its lock does.
    var blockedBy: Job? {
        guard job.status == .todo, job.lock != nil else { return nil }
        if let running = lockLine.first(where: { $0.status == .doing }) { return running }
        guard let index = lockLine.firstIndex(where: { $0.id == job.id }), index > 0 else { return nil }
        return lockLine[index - 1]
    }
}
