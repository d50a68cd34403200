import Foundation
import PostgresNIO
import Procrastinate

/// A registered worker as the workers page shows it.
struct WorkerRow: Sendable, Hashable {
    var id: Int64
    var lastHeartbeat: Date
    /// Seconds since the last heartbeat, by the database's clock.
    var silentFor: Double
    /// Its name and queues, for a worker of ours (Python's register no name).
    var name: String?
    var queues: [String]?
    var running: Int

    static let limit = 500

    static func read(in session: ReadSession) async throws -> [WorkerRow] {
        let registration: String = session.features.workerRegistrations
            ? "LEFT JOIN procrastinate_swift_workers registration ON registration.worker_id = worker.id"
            : "LEFT JOIN (SELECT NULL::bigint AS worker_id, NULL::varchar AS name, NULL::varchar[] AS queues) registration ON false"
        return try await session.rows(
            """
            SELECT worker.id, worker.last_heartbeat, extract(epoch FROM now() - worker.last_heartbeat)::float8,
                   registration.name::text, registration.queues::text[],
                   (SELECT count(*) FROM procrastinate_jobs WHERE worker_id = worker.id AND status = 'doing')
            FROM procrastinate_workers worker \(unescaped: registration)
            ORDER BY worker.id LIMIT \(limit)
            """,
            as: (Int64, Date, Double, String?, [String]?, Int64).self
        ).map { WorkerRow(id: $0.0, lastHeartbeat: $0.1, silentFor: $0.2, name: $0.3, queues: $0.4, running: Int($0.5)) }
    }
}

/// The last tick deferred for each periodic schedule, from `procrastinate_periodic_defers`
/// (read through its unique index, one schedule to the next, however many ticks it keeps).
struct LastTick: Sendable, Hashable {
    var taskName: String
    var periodicID: String
    var tick: Date?
    var jobID: Int64?

    static func read(in session: ReadSession) async throws -> [LastTick] {
        try await session.rows(
            """
            WITH RECURSIVE schedules AS (
                (SELECT task_name, periodic_id FROM procrastinate_periodic_defers ORDER BY task_name, periodic_id LIMIT 1)
                UNION ALL
                SELECT next.task_name, next.periodic_id FROM schedules CROSS JOIN LATERAL (
                    SELECT task_name, periodic_id FROM procrastinate_periodic_defers defers
                    WHERE (defers.task_name, defers.periodic_id) > (schedules.task_name, schedules.periodic_id)
                    ORDER BY task_name, periodic_id LIMIT 1
                ) AS next
            )
            SELECT schedules.task_name::text, schedules.periodic_id::text, last.defer_timestamp, last.job_id
            FROM schedules LEFT JOIN LATERAL (
                SELECT defer_timestamp, job_id FROM procrastinate_periodic_defers defers
                WHERE defers.task_name = schedules.task_name AND defers.periodic_id = schedules.periodic_id
                  AND defer_timestamp IS NOT NULL
                ORDER BY defer_timestamp DESC LIMIT 1
            ) AS last ON true
            LIMIT 1000
            """,
            as: (String, String, Int64?, Int64?).self
        ).map { LastTick(taskName: $0.0, periodicID: $0.1, tick: $0.2.map { Date(timeIntervalSince1970: TimeInterval($0)) }, jobID: $0.3) }
    }
}

/// Running jobs whose worker is gone or silent for longer than a threshold: the rule of our
/// workers' stalled-job recovery (which also follows a job's orphan record), or, on a database
/// without our migrations, Python Procrastinate's.
enum StalledJobs {
    static let limit = 500

    static func read(silentFor seconds: Double, in session: ReadSession) async throws -> [Job] {
        if session.features.stalledJobsFunction {
            return try await session.jobs(
                """
                SELECT \(unescaped: PostgresConnector.jobColumns)
                FROM procrastinate_swift_stalled_jobs_v1(\(seconds), NULL, NULL, NULL) LIMIT \(limit)
                """
            )
        }
        return try await session.jobs(
            """
            SELECT \(unescaped: PostgresConnector.jobColumns) FROM procrastinate_jobs job
            WHERE job.status = 'doing' AND NOT EXISTS (
                SELECT 1 FROM procrastinate_workers worker
                WHERE worker.id = job.worker_id AND worker.last_heartbeat >= now() - make_interval(secs => \(seconds))
            )
            ORDER BY job.id LIMIT \(limit)
            """
        )
    }
}
