import Foundation
import PostgresNIO
import Procrastinate

/// The job list's filters, as the query string carries them.
struct JobSearchFilter: Sendable, Hashable {
    var id: Int64?
    var status: JobStatus?
    var queue: String?
    var task: String?
    var lock: String?
    var queueingLock: String?
    var worker: Int64?
    /// Text the arguments contain, or (when it is a JSON object) a JSON object they contain.
    var arguments: String?

    /// The filter's fields by query-string name, for links and forms.
    var parameters: [(String, String)] {
        [
            ("id", id.map(String.init)), ("status", status?.rawValue), ("queue", queue), ("task", task), ("lock", lock),
            ("queueing_lock", queueingLock), ("worker", worker.map(String.init)), ("args", arguments),
        ].compactMap { name, value in value.map { (name, $0) } }
    }

    var isEmpty: Bool { parameters.isEmpty }

    /// The filter of `query` (a query string's parameters); a malformed value is an error naming it.
    init(query: [String: String]) throws(InvalidParameter) {
        func text(_ name: String) -> String? { query[name].flatMap { $0.isEmpty ? nil : $0 } }
        func number(_ name: String) throws(InvalidParameter) -> Int64? {
            guard let value = text(name) else { return nil }
            guard let number = Int64(value.trimmingCharacters(in: .whitespaces)) else {
                throw InvalidParameter(name: name, value: value, expected: "a whole number")
            }
            return number
        }
        id = try number("id")
        worker = try number("worker")
        if let value = text("status") {
            guard let status = JobStatus(rawValue: value) else {
                throw InvalidParameter(name: "status", value: value, expected: JobStatus.allCases.map(\.rawValue).joined(separator: ", "))
            }
            self.status = status
        }
        queue = text("queue")
        task = text("task")
        lock = text("lock")
        queueingLock = text("queueing_lock")
        arguments = text("args")
    }

    init() {}

    /// The arguments' JSON object, when ``arguments`` is one.
    var argumentsObject: String? {
        guard let arguments, arguments.hasPrefix("{"),
            (try? JSONSerialization.jsonObject(with: Data(arguments.utf8))) is [String: Any]
        else { return nil }
        return arguments
    }
}

/// A query-string value the dashboard cannot use.
struct InvalidParameter: Error, CustomStringConvertible {
    var name: String
    var value: String
    var expected: String

    var description: String { "\(name)=\(value) is not valid: expected \(expected)" }
}

/// One page of the job list, newest first.
///
/// Filters that an index answers in id order (an id, a live status) narrow the scan; the
/// others are applied to windows of ``window`` jobs walked down the primary key from the
/// page's start, until a page is full or ``budget`` has passed. A page therefore costs about
/// the same on page 1 and page 1,000, however rare the jobs it looks for; when the budget ends
/// first, the page says how far it looked and its "older" link goes on from there.
struct JobListing: Sendable {
    var jobs: [Job]
    /// Where the next page starts (jobs with smaller ids), nil at the end of the table.
    var olderThan: Int64?
    /// Whether the page stopped for its time budget, not because it was full.
    var searchedDownTo: Int64?

    static let size = 50
    static let window = 20_000
    static let budget: Duration = .milliseconds(60)

    static func read(_ filter: JobSearchFilter, before: Int64?, in session: ReadSession) async throws -> JobListing {
        if let id = filter.id {
            // One row to look at: the job itself, if it passes the other filters.
            let jobs = try await window(filter, below: id == .max ? id : id + 1, size: 1, want: 1, in: session).jobs
            return JobListing(jobs: jobs, olderThan: nil, searchedDownTo: nil)
        }
        let started = ContinuousClock.now
        var found: [Job] = []
        var start = before ?? Int64.max
        while true {
            let (jobs, lowest, examined) = try await window(filter, below: start, size: window, want: size + 1 - found.count, in: session)
            found += jobs
            if found.count > size {
                found.removeLast(found.count - size)
                return JobListing(jobs: found, olderThan: found.last?.id, searchedDownTo: nil)
            }
            guard examined == window, let lowest else {
                return JobListing(jobs: found, olderThan: nil, searchedDownTo: nil)  // the end of the table
            }
            start = lowest
            if ContinuousClock.now - started >= budget {
                return JobListing(jobs: found, olderThan: lowest, searchedDownTo: lowest)
            }
        }
    }

    /// The ids of the jobs passing `filter`, newest first, at most `limit` (a bulk action's).
    static func matchingIDs(_ filter: JobSearchFilter, limit: Int, in session: ReadSession) async throws -> [Int64] {
        if filter.id != nil { return try await read(filter, before: nil, in: session).jobs.map(\.id) }
        var ids: [Int64] = []
        var start = Int64.max
        while ids.count < limit {
            let (jobs, lowest, examined) = try await window(filter, below: start, size: window, want: limit - ids.count, in: session)
            ids += jobs.map(\.id)
            guard examined == window, let lowest else { break }
            start = lowest
        }
        return ids
    }

    /// The jobs passing `filter` among the `size` jobs below `start` (newest first, at most
    /// `want`), the lowest id looked at and how many were.
    private static func window(
        _ filter: JobSearchFilter, below start: Int64, size: Int, want: Int, in session: ReadSession
    ) async throws -> (jobs: [Job], lowest: Int64?, examined: Int) {
        // A live status is answered by its partial index, in id order: inside the window.
        let liveStatus = filter.status.flatMap { $0 == .todo || $0 == .doing ? $0.rawValue : nil }
        var conditions: [String] = []
        var bindings = PostgresBindings()
        func bind<Value: PostgresNonThrowingEncodable>(_ value: Value) -> String {
            bindings.append(value)
            return "$\(bindings.count)"
        }
        let startPlaceholder = bind(start)
        // A literal (one of two enum values, never user text): a bound value would keep the
        // planner from proving that the live statuses' partial index applies.
        let liveCondition = liveStatus.map { " AND status = '\($0)'" } ?? ""
        if let status = filter.status, liveStatus == nil { conditions.append("status = \(bind(status.rawValue))::procrastinate_job_status") }
        if let id = filter.id { conditions.append("id = \(bind(id))") }
        if let queue = filter.queue { conditions.append("queue_name = \(bind(queue))") }
        if let task = filter.task { conditions.append("task_name = \(bind(task))") }
        if let lock = filter.lock { conditions.append("lock = \(bind(lock))") }
        if let queueingLock = filter.queueingLock { conditions.append("queueing_lock = \(bind(queueingLock))") }
        if let worker = filter.worker { conditions.append("worker_id = \(bind(worker))") }
        if let object = filter.argumentsObject {
            conditions.append("args @> \(bind(object))::jsonb")
        } else if let text = filter.arguments {
            conditions.append("strpos(args::text, \(bind(text))) > 0")
        }
        let windowLimit = bind(size)
        let wantPlaceholder = bind(want)
        let sql = """
            WITH scanned AS (
                SELECT * FROM procrastinate_jobs
                WHERE id < \(startPlaceholder)\(liveCondition)
                ORDER BY id DESC LIMIT \(windowLimit)
            ), bounds AS (
                SELECT min(id) AS lowest, count(*) AS examined FROM scanned
            )
            SELECT \(PostgresConnector.jobColumns), bounds.lowest, bounds.examined
            FROM bounds LEFT JOIN LATERAL (
                SELECT * FROM scanned \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
                ORDER BY id DESC LIMIT \(wantPlaceholder)
            ) AS job ON true
            ORDER BY id DESC
            """
        var jobs: [Job] = []
        var lowest: Int64?
        var examined = 0
        for try await row in try await session.connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: session.logger) {
            let columns = row.makeRandomAccess()
            lowest = try columns[12].decode(Int64?.self)
            examined = Int(try columns[13].decode(Int64.self))
            if try columns[0].decode(Int64?.self) != nil {
                jobs.append(try PostgresConnector.job(from: row))
            }
        }
        return (jobs, lowest, examined)
    }
}
