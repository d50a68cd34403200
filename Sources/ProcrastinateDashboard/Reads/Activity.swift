import Foundation
import PostgresNIO

/// What the queue did over the last hour, from the events table: jobs finished per minute and
/// how long jobs waited before they started.
///
/// The events table has no index on its time: the reads walk it backwards by id from its end
/// (ids grow with time), so that their cost is the last hour's events, not the table's.
struct Activity: Sendable {
    /// One minute's finished jobs.
    struct Minute: Sendable, Hashable {
        var start: Date
        var succeeded = 0
        var failed = 0
    }

    /// The last 60 minutes, oldest first, each present.
    var minutes: [Minute]
    /// Seconds from deferred (or scheduled time) to started: median, 90th and 99th
    /// percentiles of the last hour's starts (the latest ``waitSample`` of them); nil without any.
    var wait: (p50: Double, p90: Double, p99: Double)?
    /// How many starts the percentiles come from.
    var waitSampleSize: Int

    static let waitSample = 5_000

    /// The first event id of the last hour (the events from it on are the hour's), and the
    /// database's current minute.
    private static let hourStart: PostgresQuery = """
        SELECT coalesce((
            SELECT id FROM procrastinate_events WHERE at < now() - interval '1 hour' ORDER BY id DESC LIMIT 1
        ), 0) + 1, extract(epoch FROM date_trunc('minute', now()))::float8
        """

    static func read(in session: ReadSession) async throws -> Activity {
        let (firstID, currentMinute) = try await session.rows(hourStart, as: (Int64, Double).self)[0]
        var minutes = (0..<60).reversed().map { back in
            Minute(start: Date(timeIntervalSince1970: currentMinute - Double(back) * 60))
        }
        for (minute, type, count) in try await session.rows(
            """
            SELECT extract(epoch FROM date_trunc('minute', at))::float8, type::text, count(*)
            FROM procrastinate_events
            WHERE id >= \(firstID) AND at >= date_trunc('minute', now()) - interval '59 minutes'
              AND type IN ('succeeded', 'failed')
            GROUP BY 1, 2
            """,
            as: (Double, String, Int64).self
        ) {
            guard let index = minutes.firstIndex(where: { $0.start.timeIntervalSince1970 == minute }) else { continue }
            if type == "succeeded" { minutes[index].succeeded = Int(count) } else { minutes[index].failed = Int(count) }
        }
        let waits = try await session.rows(
            """
            WITH starts AS (
                SELECT id, job_id, at FROM procrastinate_events
                WHERE id >= \(firstID) AND type = 'started' AND at >= now() - interval '1 hour'
                ORDER BY id DESC LIMIT \(waitSample)
            ), waits AS (
                SELECT extract(epoch FROM starts.at - greatest(queued.at, coalesce(job.scheduled_at, queued.at))) AS seconds
                FROM starts
                JOIN procrastinate_jobs job ON job.id = starts.job_id
                CROSS JOIN LATERAL (
                    SELECT at FROM procrastinate_events queued
                    WHERE queued.job_id = starts.job_id AND queued.id < starts.id
                      AND queued.type IN ('deferred', 'deferred_for_retry', 'retried')
                    ORDER BY queued.id DESC LIMIT 1
                ) AS queued
            )
            SELECT count(*)::bigint,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)::float8,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds)::float8,
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY seconds)::float8
            FROM waits
            """,
            as: (Int64, Double?, Double?, Double?).self
        )[0]
        let wait = waits.1.flatMap { p50 in waits.2.flatMap { p90 in waits.3.map { (p50, p90, $0) } } }
        return Activity(minutes: minutes, wait: wait.map { (p50: $0.0, p90: $0.1, p99: $0.2) }, waitSampleSize: Int(waits.0))
    }
}

/// The oldest waiting job of each queue, which tells how far behind a queue is.
struct OldestWaiting: Sendable, Hashable {
    var queue: String
    var jobID: Int64
    /// Seconds since it was deferred (or since its scheduled time, when later).
    var age: Double

    /// One per queue with waiting jobs, of `queues`.
    static func read(queues: [String], in session: ReadSession) async throws -> [OldestWaiting] {
        try await session.rows(
            """
            SELECT queue.name, oldest.id,
                   extract(epoch FROM now() - greatest(coalesce(oldest.scheduled_at, deferred.at), deferred.at))::float8
            FROM unnest(\(queues)::text[]) AS queue(name)
            CROSS JOIN LATERAL (
                SELECT id, scheduled_at FROM procrastinate_jobs
                WHERE queue_name = queue.name AND status = 'todo' AND (scheduled_at IS NULL OR scheduled_at <= now())
                ORDER BY id LIMIT 1
            ) AS oldest
            LEFT JOIN LATERAL (
                SELECT at FROM procrastinate_events WHERE job_id = oldest.id AND type = 'deferred' ORDER BY id LIMIT 1
            ) AS deferred ON true
            ORDER BY 3 DESC NULLS LAST
            """,
            as: (String, Int64, Double?).self
        ).map { OldestWaiting(queue: $0.0, jobID: $0.1, age: $0.2 ?? 0) }
    }
}

/// The queues that hold jobs, read from the queue index without a scan (a skip from one name
/// to the next).
enum QueueNames {
    static let limit = 500

    static func read(in session: ReadSession) async throws -> [String] {
        try await session.rows(
            """
            WITH RECURSIVE queues(name) AS (
                (SELECT queue_name FROM procrastinate_jobs ORDER BY queue_name LIMIT 1)
                UNION ALL
                SELECT (SELECT queue_name FROM procrastinate_jobs WHERE queue_name > queues.name ORDER BY queue_name LIMIT 1)
                FROM queues WHERE queues.name IS NOT NULL
            )
            SELECT name FROM queues WHERE name IS NOT NULL LIMIT \(limit)
            """,
            as: String.self
        )
    }
}
