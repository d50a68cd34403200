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
        bindings.append(jobs.map(\.queue))
        bindings.append(jobs.map(\.taskName))
        bindings.append(jobs.map { Int32(clamping: $0.priority) })
        try bindings.append(NullableArray(jobs.map(\.lock)))
        try bindings.append(NullableArray(jobs.map(\.queueingLock)))
        bindings.append(jobs.map(\.arguments))
        try bindings.append(NullableArray(jobs.map(\.scheduledAt)))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode([Int64].self)
    }
}
