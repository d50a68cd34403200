import PostgresNIO
import Procrastinate

/// A number of jobs as the dashboard could afford to know it.
enum JobCount: Sendable, Hashable {
    /// Counted.
    case exact(Int)
    /// The planner's statistics (the last ANALYZE), not a count.
    case estimate(Int)

    var value: Int {
        switch self {
        case .exact(let value), .estimate(let value): value
        }
    }
}

/// Job counts by status for each queue or task.
///
/// A page load never counts the whole table: a table under ``exactBelowBytes`` is counted
/// exactly; beyond it, the waiting and running jobs are counted (through the partial indexes
/// of the live statuses) while there are at most ``liveCountCap`` of them, and the finished
/// ones come from the planner's statistics, shown as estimates.
struct StatusCounts: Sendable {
    /// What the counts are grouped by.
    enum Grouping: String, Sendable {
        case queue = "queue_name"
        case task = "task_name"
    }

    /// One queue's or task's counts.
    struct Row: Sendable, Hashable {
        var name: String
        var counts: [JobStatus: JobCount] = [:]

        /// The jobs of every status.
        var total: Int { counts.values.reduce(0) { $0 + $1.value } }
    }

    static let exactBelowBytes: Int64 = 32 * 1024 * 1024
    static let liveCountCap = 50_000

    var rows: [Row]
    /// Whether more than ``liveCountCap`` jobs wait or run, so that the waiting ones are
    /// estimated too.
    var waitingPastCap: Bool
    /// Whether some counts are estimates.
    var hasEstimates: Bool { rows.contains { $0.counts.values.contains { if case .estimate = $0 { true } else { false } } } }

    /// The counts of `session`'s database by `grouping`.
    static func read(by grouping: Grouping, in session: ReadSession) async throws -> StatusCounts {
        let column = grouping.rawValue
        let size = try await session.rows("SELECT pg_relation_size('procrastinate_jobs')", as: Int64.self)[0]
        var rows: [String: Row] = [:]
        func add(_ name: String, _ status: String, _ count: JobCount) {
            guard let status = JobStatus(rawValue: status) else { return }
            rows[name, default: Row(name: name)].counts[status] = count
        }
        if size < exactBelowBytes {
            for (name, status, count) in try await session.rows(
                "SELECT \(unescaped: column), status::text, count(*) FROM procrastinate_jobs GROUP BY 1, 2", as: (String, String, Int64).self
            ) {
                add(name, status, .exact(Int(count)))
            }
            return StatusCounts(rows: rows.values.sorted { $0.name < $1.name }, waitingPastCap: false)
        }
        let live = try await session.rows(
            """
            SELECT count(*) FROM (
                SELECT 1 FROM procrastinate_jobs WHERE status IN ('todo', 'doing') LIMIT \(liveCountCap + 1)
            ) AS live
            """,
            as: Int64.self
        )[0]
        let countedStatuses = live <= liveCountCap ? "'todo', 'doing'" : "'doing'"
        for (name, status, count) in try await session.rows(
            """
            SELECT \(unescaped: column), status::text, count(*) FROM procrastinate_jobs
            WHERE status IN (\(unescaped: countedStatuses)) GROUP BY 1, 2
            """,
            as: (String, String, Int64).self
        ) {
            add(name, status, .exact(Int(count)))
        }
        // The other statuses: the table's row estimate times the two columns' frequencies in
        // their most common values (the planner's own independence assumption).
        for (name, status, estimate) in try await session.rows(
            """
            WITH stats AS (
                SELECT attname, most_common_vals::text::text[] AS vals, most_common_freqs AS freqs
                FROM pg_stats
                WHERE schemaname = ANY (current_schemas(false)) AND tablename = 'procrastinate_jobs'
                  AND attname IN (\(column), 'status')
            ), names AS (
                SELECT unnest(vals) AS name, unnest(freqs) AS freq FROM stats WHERE attname = \(column)
            ), statuses AS (
                SELECT unnest(vals) AS status, unnest(freqs) AS freq FROM stats WHERE attname = 'status'
            )
            SELECT names.name, statuses.status, round(greatest(c.reltuples, 0) * names.freq * statuses.freq)::bigint
            FROM names, statuses, pg_class c
            WHERE c.oid = 'procrastinate_jobs'::regclass AND statuses.status NOT IN (\(unescaped: countedStatuses))
            """,
            as: (String, String, Int64).self
        ) where estimate > 0 {
            add(name, status, .estimate(Int(estimate)))
        }
        return StatusCounts(rows: rows.values.sorted { $0.name < $1.name }, waitingPastCap: live > liveCountCap)
    }
}
