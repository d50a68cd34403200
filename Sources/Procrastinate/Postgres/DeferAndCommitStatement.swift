import Foundation
import PostgresNIO

/// `CALL procrastinate_swift_defer_jobs_v1`, prepared once per connection: inserts jobs and
/// commits before it answers with their ids, in one round trip. For defers outside a caller's
/// transaction (a caller's transaction uses ``DeferJobStatement``).
struct DeferAndCommitStatement: PostgresPreparedStatement {
    static let sql = """
        CALL procrastinate_swift_defer_jobs_v1($1::varchar[], $2::varchar[], $3::integer[], $4, $5, $6, $7, NULL)
        """
    static let bindingDataTypes: [PostgresDataType] = [.textArray, .textArray, .int4Array, .textArray, .textArray, .textArray, .timestamptzArray]

    typealias Row = [Int64]

    var jobs: [NewJob]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 7)
        try jobs.appendColumns(to: &bindings)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode([Int64].self)
    }
}

/// `CALL procrastinate_swift_defer_limited_jobs_v1`: ``DeferAndCommitStatement`` for jobs with
/// limit keys, each key's row written with its job's limit.
struct DeferLimitedAndCommitStatement: PostgresPreparedStatement {
    static let sql = """
        CALL procrastinate_swift_defer_limited_jobs_v1($1::varchar[], $2::varchar[], $3::integer[], $4, $5, $6, $7, $8,
            $9::integer[], $10::integer[], $11::float8[], $12::integer[], NULL)
        """
    static let bindingDataTypes: [PostgresDataType] = DeferAndCommitStatement.bindingDataTypes
        + [.textArray, .int4Array, .int4Array, .float8Array, .int4Array]

    typealias Row = [Int64]

    var jobs: [NewJob]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 12)
        try jobs.appendColumns(to: &bindings)
        try jobs.appendLimitKeyColumns(to: &bindings)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode([Int64].self)
    }
}

extension [NewJob] {
    /// Whether a job has a limit key (then it is deferred with ``DeferLimitedAndCommitStatement``).
    var haveLimitKeys: Bool { contains { $0.limitKey != nil } }

    /// The jobs' columns, an array each: queue, task, priority, lock, queueing lock, arguments,
    /// schedule.
    func appendColumns(to bindings: inout PostgresBindings) throws {
        bindings.append(map(\.queue))
        bindings.append(map(\.taskName))
        bindings.append(map { Int32(clamping: $0.priority) })
        try bindings.append(NullableArray(map(\.lock)))
        try bindings.append(NullableArray(map(\.queueingLock)))
        bindings.append(map(\.arguments))
        try bindings.append(NullableArray(map(\.scheduledAt)))
    }

    /// The jobs' limit keys and their limits, an array each: key, concurrency, rate count,
    /// rate period in seconds, rate burst.
    func appendLimitKeyColumns(to bindings: inout PostgresBindings) throws {
        try bindings.append(NullableArray(map(\.limitKey)))
        try bindings.append(NullableArray(map { $0.keyLimit?.concurrency.map { Int32(clamping: $0) } }))
        try bindings.append(NullableArray(map { $0.keyLimit?.rate.map { Int32(clamping: $0.count) } }))
        try bindings.append(NullableArray(map { $0.keyLimit?.rate?.period.seconds }))
        try bindings.append(NullableArray(map { $0.keyLimit?.rate.map { Int32(clamping: $0.burst) } }))
    }
}
