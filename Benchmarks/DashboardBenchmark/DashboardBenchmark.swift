// The dashboard's server time on a large database: every page and filter, median and p99.
//
//   BENCH_DSN=postgresql://postgres@127.0.0.1:5432/bench swift run -c release DashboardBenchmark
//
// Seeds (once: an existing seed of the same size is kept) BENCH_DASHBOARD_JOBS jobs (default
// 1,000,000) and five events each (5,000,000), spread over the last 30 days, then requests
// each page BENCH_DASHBOARD_REQUESTS times (default 100) through the router, in process, and
// prints JSON: the page's path, then p50 and p99 in milliseconds.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Procrastinate
import ProcrastinateDashboard

@main
enum DashboardBenchmark {
    static func main() async throws {
        let environment = ProcessInfo.processInfo.environment
        let settings = try ConnectionSettings.resolve(url: environment["BENCH_DSN"])
        let jobs = Int(environment["BENCH_DASHBOARD_JOBS"] ?? "") ?? 1_000_000
        let requests = Int(environment["BENCH_DASHBOARD_REQUESTS"] ?? "") ?? 100
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let connector = PostgresConnector(settings: settings, logger: logger)
        try await connector.run { connector in
            let seed = Seed(connector: connector, jobs: jobs)
            try await seed.ensure()
            let targets = try await Targets.read(connector)
            let router = Router()
            Dashboard(connector: connector).addRoutes(to: router)
            let results = try await Application(router: router).test(.router) { client in
                var results: [String: [String: Double]] = [:]
                for path in targets.paths {
                    var samples: [Double] = []
                    for round in 0..<(requests + 5) {
                        let started = ContinuousClock.now
                        let status = try await client.execute(uri: path, method: .get) { $0.status }
                        let elapsed = ContinuousClock.now - started
                        guard status == .ok else { throw PageFailed(path: path, status: status.code) }
                        if round >= 5 { samples.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000) }
                    }
                    samples.sort()
                    let p50 = samples[samples.count / 2]
                    let p99 = samples[min(samples.count - 1, Int((Double(samples.count) * 0.99).rounded(.up)) - 1)]
                    results[path] = ["p50_ms": (p50 * 100).rounded() / 100, "p99_ms": (p99 * 100).rounded() / 100]
                    FileHandle.standardError.write(Data("\(path): p50 \(p50) ms, p99 \(p99) ms\n".utf8))
                }
                return results
            }
            let counts = (try await seed.value("SELECT count(*) FROM procrastinate_jobs"), try await seed.value("SELECT count(*) FROM procrastinate_events"))
            let report: [String: Any] = [
                "jobs": counts.0, "events": counts.1, "requests_per_page": requests, "pages": results,
                "max_p99_ms": results.values.compactMap { $0["p99_ms"] }.max() ?? 0,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
        }
    }

    struct PageFailed: Error, CustomStringConvertible {
        var path: String
        var status: Int
        var description: String { "\(path) answered \(status)" }
    }
}

/// The pages and filters measured, with ids and names from the seeded database.
struct Targets {
    var paths: [String]

    static func read(_ connector: PostgresConnector) async throws -> Targets {
        let (pageThousand, lockedJob, failedJob) = try await connector.withConnection { connection in
            try await connection.query(
                """
                SELECT (SELECT id FROM procrastinate_jobs ORDER BY id DESC OFFSET 49999 LIMIT 1) + 1,
                       (SELECT id FROM procrastinate_jobs WHERE lock IS NOT NULL AND status = 'todo' ORDER BY id LIMIT 1),
                       (SELECT id FROM procrastinate_jobs WHERE status = 'failed' ORDER BY id DESC LIMIT 1)
                """,
                logger: connector.logger
            ).collect()[0].decode((Int64, Int64, Int64).self)
        }
        return Targets(paths: [
            "/", "/jobs", "/jobs?before=\(pageThousand)", "/jobs?status=failed", "/jobs?status=todo", "/jobs?status=doing",
            "/jobs?queue=queue-3", "/jobs?task=task-7", "/jobs?lock=lock-123", "/jobs?worker=1", "/jobs?queueing_lock=q-5",
            "/jobs?args=user-4242", "/jobs?args=%7B%22user%22%3A4242%7D", "/jobs?id=\(failedJob)", "/jobs?status=failed&before=\(pageThousand)",
            "/jobs/\(lockedJob)", "/jobs/\(failedJob)", "/queues", "/tasks", "/locks", "/locks?search=lock-99", "/workers", "/periodic",
            "/stalled", "/metrics",
        ])
    }
}

/// The seeded database: jobs of 5 queues and 20 tasks, one in ten on one of 10,000 locks,
/// mostly finished (1 % waiting, 20 running), each with five events, over 30 days.
struct Seed {
    let connector: PostgresConnector
    let jobs: Int

    func ensure() async throws {
        let existing = try await value("SELECT count(*) FROM procrastinate_jobs")
        if existing == jobs { return }
        FileHandle.standardError.write(Data("seeding \(jobs) jobs and \(jobs * 5) events…\n".utf8))
        for statement in [
            "TRUNCATE procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, procrastinate_workers CASCADE",
            "INSERT INTO procrastinate_workers (id, last_heartbeat) OVERRIDING SYSTEM VALUE VALUES (1, now()), (2, now() - interval '5 minutes')",
            // Triggers off while seeding: the events come with their own times below.
            "SET session_replication_role = replica",
            """
            INSERT INTO procrastinate_jobs (id, queue_name, task_name, priority, lock, queueing_lock, args, status, attempts, worker_id)
            OVERRIDING SYSTEM VALUE
            SELECT n, 'queue-' || n % 5, 'task-' || n % 20, n % 3,
                   CASE WHEN n % 10 = 0 THEN 'lock-' || n % 10000 END,
                   CASE WHEN n > \(jobs) - 10000 AND n % 97 = 0 THEN 'q-' || n END,
                   jsonb_build_object('user', n % 10000, 'email', 'user-' || n % 10000 || '@example.com'),
                   (CASE WHEN n > \(jobs) - 10000 THEN 'todo' WHEN n > \(jobs) - 10020 THEN 'doing'
                         WHEN n % 67 = 0 THEN 'failed' WHEN n % 199 = 0 THEN 'cancelled' ELSE 'succeeded' END)::procrastinate_job_status,
                   CASE WHEN n % 67 = 0 THEN 2 ELSE 0 END, NULL
            FROM generate_series(1, \(jobs)) AS n
            """,
            "UPDATE procrastinate_jobs SET worker_id = 1 WHERE status = 'doing'",
            """
            INSERT INTO procrastinate_events (job_id, type, at)
            SELECT job.id, event.type::procrastinate_job_event_type,
                   now() - interval '30 days' * (1 - job.id::float8 / \(jobs)) + event.offset_seconds * interval '1 second'
            FROM procrastinate_jobs job
            CROSS JOIN LATERAL (VALUES
                (1, 'deferred', 0.0), (2, 'started', 0.5), (3, 'deferred_for_retry', 0.7), (4, 'started', 1.5),
                (5, CASE job.status WHEN 'failed' THEN 'failed' WHEN 'cancelled' THEN 'cancelled' ELSE 'succeeded' END, 1.8)
            ) AS event(position, type, offset_seconds)
            WHERE job.status IN ('succeeded', 'failed', 'cancelled') OR event.position = 1
            """,
            "SET session_replication_role = origin",
            "SELECT setval(pg_get_serial_sequence('procrastinate_jobs', 'id'), \(jobs))",
            "VACUUM ANALYZE procrastinate_jobs",
            "VACUUM ANALYZE procrastinate_events",
        ] {
            try await connector.withConnection { connection in _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: connector.logger).collect() }
        }
        // The lock heads, as the migration fills them.
        _ = try? await value(
            """
            WITH filled AS (
                INSERT INTO procrastinate_swift_lock_heads (lock, job_id, priority, queue_name)
                SELECT DISTINCT ON (lock) lock, id, priority, queue_name FROM procrastinate_jobs
                WHERE status = 'todo' AND lock IS NOT NULL ORDER BY lock, priority DESC, id
                ON CONFLICT DO NOTHING RETURNING 1
            ) SELECT count(*) FROM filled
            """
        )
    }

    func value(_ sql: String) async throws -> Int {
        try await connector.withConnection { connection in
            Int(try await connection.query(PostgresQuery(unsafeSQL: sql), logger: connector.logger).collect()[0].decode(Int64.self))
        }
    }
}
