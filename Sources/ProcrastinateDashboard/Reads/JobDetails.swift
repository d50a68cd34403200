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

    /// An entry of the job's timeline: an event, with the time it scheduled the job for when
    /// a `scheduled` event came with it (3.10 writes `scheduled`, whose time is the planned
    /// run, just before the `deferred`, `deferred_for_retry` or `retried` it belongs to).
    struct TimelineEntry: Sendable, Hashable {
        var type: String
        var at: Date?
        var scheduledFor: Date?
        /// The time since the previous entry's.
        var gap: TimeInterval?
    }

    var job: Job
    var events: [Event]
    /// The recorded errors of its failed attempts.
    var errors: [JobError]
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
        var errors: [JobError] = []
        if session.features.jobErrors {
            errors = try await session.rows(
                "SELECT attempt, at, error_type, message FROM procrastinate_swift_job_errors WHERE job_id = \(id) ORDER BY attempt",
                as: (Int32, Date, String, String).self
            ).map { JobError(attempt: Int($0.0), at: $0.1, cause: JobError.Cause(type: $0.2, message: $0.3)) }
        }
        return JobDetails(job: job, events: events, errors: errors, worker: worker, lockLine: lockLine)
    }

    /// The events in the order they happened (their ids'), each `scheduled` event folded into
    /// the event it came with, and the gap between each entry and the one before it.
    var timeline: [TimelineEntry] {
        var entries: [TimelineEntry] = []
        var scheduledFor: Date?
        for event in events {
            if event.type == "scheduled" {
                scheduledFor = event.at
                continue
            }
            var gap: TimeInterval?
            if let previous = entries.last?.at, let at = event.at { gap = at.timeIntervalSince(previous) }
            entries.append(TimelineEntry(type: event.type, at: event.at, scheduledFor: scheduledFor, gap: gap))
            scheduledFor = nil
        }
        if let scheduledFor {
            entries.append(TimelineEntry(type: "scheduled", at: nil, scheduledFor: scheduledFor, gap: nil))
        }
        return entries
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
