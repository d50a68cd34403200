import PostgresNIO

/// The locks with running or waiting jobs: who holds each, and how many wait.
struct LockLine: Sendable, Hashable {
    var lock: String
    /// The running job holding the lock.
    var runningJobID: Int64?
    var runningTask: String?
    /// Waiting jobs, counted up to ``waitingCap`` (+1 meaning "more").
    var waiting: Int
    /// The job that runs next.
    var nextJobID: Int64?

    static let pageSize = 100
    static let waitingCap = 1_000

    /// A page of locks by name after `after`, those containing `search` when given.
    static func read(search: String?, after: String?, in session: ReadSession) async throws -> [LockLine] {
        let locks: PostgresQuery = session.features.lockHeads
            ? """
                SELECT lock FROM procrastinate_swift_lock_heads
                WHERE lock > \(after ?? "") AND (\(search)::text IS NULL OR strpos(lock, \(search)) > 0)
                UNION
                SELECT lock FROM procrastinate_jobs
                WHERE status = 'doing' AND lock > \(after ?? "") AND (\(search)::text IS NULL OR strpos(lock, \(search)) > 0)
                ORDER BY lock LIMIT \(pageSize)
                """
            : """
                SELECT DISTINCT lock FROM procrastinate_jobs
                WHERE status IN ('todo', 'doing') AND lock > \(after ?? "") AND (\(search)::text IS NULL OR strpos(lock, \(search)) > 0)
                ORDER BY lock LIMIT \(pageSize)
                """
        let names = try await session.rows(locks, as: String.self)
        return try await session.rows(
            """
            SELECT name, running.id, running.task_name, waiting.count, next.id
            FROM unnest(\(names)::text[]) WITH ORDINALITY AS locks(name, position)
            LEFT JOIN procrastinate_jobs running ON running.lock = locks.name AND running.status = 'doing'
            CROSS JOIN LATERAL (
                SELECT count(*) FROM (
                    SELECT 1 FROM procrastinate_jobs WHERE lock = locks.name AND status = 'todo' LIMIT \(waitingCap + 1)
                ) AS capped
            ) AS waiting
            LEFT JOIN LATERAL (
                SELECT id FROM procrastinate_jobs WHERE lock = locks.name AND status = 'todo' ORDER BY priority DESC, id LIMIT 1
            ) AS next ON true
            ORDER BY locks.position
            """,
            as: (String, Int64?, String?, Int64, Int64?).self
        ).map { LockLine(lock: $0.0, runningJobID: $0.1, runningTask: $0.2, waiting: Int($0.3), nextJobID: $0.4) }
    }
}
