import Foundation
import PostgresNIO

extension PostgresConnector {
    public func setLimit(_ limit: Limit?, for target: LimitTarget) async throws {
        if case .queue(let name) = target { try InvalidQueueName.check(name) }
        guard let limit else {
            if case .key(let key) = target { return try await removeKeyLimit(key) }
            _ = try await query(
                "DELETE FROM procrastinate_swift_limits WHERE scope = \(target.scope) AND name = \(target.name) RETURNING 1",
                as: Int32.self
            )
            return
        }
        try limit.check(for: "\(target.scope) '\(target.name)'")
        let (concurrency, rateCount, ratePeriod) = (limit.concurrency.map(Int32.init), limit.rate.map { Int32($0.count) }, limit.rate?.period.seconds)
        let rateBurst = limit.rate.map { Int32($0.burst) }
        if case .key(let key) = target {
            _ = try await query(
                """
                INSERT INTO procrastinate_swift_limit_keys AS key (limit_key, max_running, rate_count, rate_period, rate_burst)
                VALUES (\(key), \(concurrency), \(rateCount), \(ratePeriod), \(rateBurst))
                ON CONFLICT (limit_key) DO UPDATE
                SET max_running = excluded.max_running, rate_count = excluded.rate_count, rate_period = excluded.rate_period,
                    rate_burst = excluded.rate_burst
                RETURNING 1
                """,
                as: Int32.self
            )
        } else {
            _ = try await query(
                """
                INSERT INTO procrastinate_swift_limits AS limited (scope, name, max_running, rate_count, rate_period, rate_burst)
                VALUES (\(target.scope), \(target.name), \(concurrency), \(rateCount), \(ratePeriod), \(rateBurst))
                ON CONFLICT (scope, name) DO UPDATE
                SET max_running = excluded.max_running, rate_count = excluded.rate_count, rate_period = excluded.rate_period,
                    rate_burst = excluded.rate_burst
                RETURNING 1
                """,
                as: Int32.self
            )
        }
    }

    /// Deletes the row of `key` unless a job names it (a job's key must keep its limit).
    private func removeKeyLimit(_ key: String) async throws {
        do {
            _ = try await query(
                """
                DELETE FROM procrastinate_swift_limit_keys AS key WHERE key.limit_key = \(key)
                AND NOT EXISTS (SELECT FROM procrastinate_swift_job_limit_keys AS job_key WHERE job_key.limit_key = key.limit_key)
                RETURNING 1
                """,
                as: Int32.self
            )
        } catch let error as DatabaseError where error.sqlState == "23503" {
            // A job deferred with the key meanwhile.
        }
        let naming = try await query(
            "SELECT count(*)::integer FROM procrastinate_swift_job_limit_keys WHERE limit_key = \(key)", as: Int32.self
        )
        if let count = naming.first, count > 0 { throw ConfigurationError.keyNamedByJobs(key, count: Int(count)) }
    }

    public func limitUsage() async throws -> [LimitUsage] {
        // A database set up by Python alone limits nothing.
        let rows = try await withoutOurMigrations([]) { try await query(
            """
            SELECT limited.scope, limited.name::text, limited.max_running, limited.rate_count, limited.rate_period, limited.rate_burst,
                CASE limited.scope
                    WHEN 'queue' THEN (SELECT count(*) FROM procrastinate_jobs AS job WHERE job.status = 'doing' AND job.queue_name = limited.name)
                    ELSE (SELECT count(*) FROM procrastinate_jobs AS job WHERE job.status = 'doing' AND job.task_name = limited.name)
                END,
                CASE limited.scope
                    WHEN 'queue' THEN (SELECT count(*) FROM procrastinate_jobs AS job WHERE job.status = 'todo' AND job.queue_name = limited.name)
                    ELSE (SELECT count(*) FROM procrastinate_jobs AS job WHERE job.status = 'todo' AND job.task_name = limited.name)
                END,
                (SELECT count(*) FROM unnest(limited.starts) AS start(at)
                 WHERE start.at > clock_timestamp() - make_interval(secs => limited.rate_period))
            FROM procrastinate_swift_limits AS limited
            UNION ALL
            SELECT 'key', key.limit_key, key.max_running, key.rate_count, key.rate_period, key.rate_burst,
                COALESCE(counted.running, 0), COALESCE(counted.waiting, 0),
                (SELECT count(*) FROM unnest(key.starts) AS start(at)
                 WHERE start.at > clock_timestamp() - make_interval(secs => key.rate_period))
            FROM procrastinate_swift_limit_keys AS key
            LEFT JOIN (
                SELECT job_key.limit_key, count(*) FILTER (WHERE job.status = 'doing') AS running,
                    count(*) FILTER (WHERE job.status = 'todo') AS waiting
                FROM procrastinate_swift_job_limit_keys AS job_key
                JOIN procrastinate_jobs AS job ON job.id = job_key.job_id
                WHERE job.status IN ('todo', 'doing')
                GROUP BY job_key.limit_key
            ) AS counted ON counted.limit_key = key.limit_key
            ORDER BY 1, 2
            """,
            as: (String, String, Int32?, Int32?, Double?, Int32?, Int64, Int64, Int64).self
        ) }
        return rows.compactMap { scope, name, concurrency, rateCount, ratePeriod, rateBurst, running, waiting, recent in
            guard let target = LimitTarget(scope: scope, name: name) else { return nil }
            let rate = rateCount.map { Limit.Rate(Int($0), per: .seconds(ratePeriod ?? 0), burst: rateBurst.map(Int.init)) }
            return LimitUsage(
                target: target, limit: Limit(concurrency: concurrency.map(Int.init), rate: rate), running: Int(running),
                waiting: Int(waiting), recentStarts: Int(recent)
            )
        }
    }

    public func jobsDelayedByLimits(queues: [String]?, taskNames: [String]?) async throws -> Int {
        let rows = try await query(
            "SELECT procrastinate_swift_delayed_jobs_v1(\(queues)::varchar[], \(taskNames)::varchar[])", as: Int64.self
        )
        return Int(rows.first ?? 0)
    }

    public func pauseQueue(_ name: String) async throws -> Bool {
        try InvalidQueueName.check(name)
        return try await query("SELECT procrastinate_swift_pause_queue_v1(\(name))", as: Bool.self).first ?? false
    }

    public func resumeQueue(_ name: String) async throws -> Bool {
        try await query("SELECT procrastinate_swift_resume_queue_v1(\(name))", as: Bool.self).first ?? false
    }

    public func pausedQueues() async throws -> [PausedQueue] {
        // A database set up by Python alone pauses nothing.
        try await withoutOurMigrations([]) {
            try await query(
                "SELECT queue_name::text, paused_at FROM procrastinate_swift_paused_queues ORDER BY queue_name", as: (String, Date).self
            ).map { PausedQueue(name: $0, since: $1) }
        }
    }
}
